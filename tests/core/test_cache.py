"""Cache keys and the budgeted LRU store."""

from __future__ import annotations

import math

import torch

from graphflow.cache import CacheEntry, ResultCache, value_nbytes
from graphflow.keys import canonical, node_key


def test_canonical_is_order_independent_and_nan_never_matches():
    assert canonical({"b": 1, "a": [1, 2.5, None]}) == canonical({"a": [1, 2.5, None], "b": 1})
    assert canonical(math.nan) != canonical(math.nan)
    assert canonical(object()) != canonical(object())
    assert canonical(1) != canonical("1") != canonical(True)


def test_keys_depend_on_type_constants_upstream_and_id_only_when_asked():
    base = node_key("A", "1", {"x": "1"}, [("in", b"k" * 16, 0)])
    assert base == node_key("A", "1", {"x": "1"}, [("in", b"k" * 16, 0)])
    assert base != node_key("A", "2", {"x": "1"}, [("in", b"k" * 16, 0)])
    assert base != node_key("A", "1", {"x": "2"}, [("in", b"k" * 16, 0)])
    assert base != node_key("A", "1", {"x": "1"}, [("in", b"k" * 16, 1)])
    assert base != node_key("A", "1", {"x": "1"}, [("in", b"j" * 16, 0)])
    assert base != node_key("A", "1", {"x": "1"}, [("in", b"k" * 16, 0)], unique_id="7")


def test_value_nbytes_counts_tensors_once():
    tensor = torch.zeros(10, 10)
    assert value_nbytes([[tensor, {"samples": tensor}], 3, "x"]) == 400


def test_lru_evicts_oldest_beyond_budget():
    cache = ResultCache(budget_bytes=1000)
    for index in range(5):
        cache.put(bytes([index]), CacheEntry([[index]], None, 400, str(index), "T"))
    assert len(cache) == 2 and cache.nbytes == 800
    assert cache.get(bytes([0])) is None and cache.get(bytes([4])) is not None
    cache.get(bytes([3]))
    cache.put(b"new", CacheEntry([[9]], None, 400, "n", "T"))
    assert cache.get(bytes([3])) is not None and cache.get(bytes([4])) is None


def test_budget_eviction_in_a_run_keeps_the_run_correct(runtime):
    from graphflow.scheduler import Executor

    executor = Executor(runtime, ResultCache(budget_bytes=10_000))
    prompt = {
        "0": {"class_type": "EmptyImage", "inputs": {"width": 16, "height": 16, "batch_size": 1, "color": 0}}
    }
    for i in range(1, 6):
        prompt[str(i)] = {"class_type": "ImageInvert", "inputs": {"image": [str(i - 1), 0]}}
    prompt["out"] = {"class_type": "PreviewAny", "inputs": {"source": ["5", 0]}}
    graph, _ = executor.validate(prompt)
    first = executor.execute(graph)
    assert first.ok and "max 1" in first.outputs["out"]["text"][0]
    assert executor.cache.nbytes <= 10_000  # 3 KiB per image: the oldest were evicted

    prompt["early"] = {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}}
    graph, _ = executor.validate(prompt)
    second = executor.execute(graph)
    assert second.ok and second.outputs["out"] == first.outputs["out"]
    assert "max 1" in second.outputs["early"]["text"][0]
    assert second.executed[:2] == ["0", "1"]
    assert second.reasons["1"] == "its earlier result was evicted from the cache"
