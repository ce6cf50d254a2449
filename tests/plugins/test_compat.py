"""The ComfyUI stand-in modules as packs use them, against a real runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphflow.events import Progress
from graphflow.plugins.compat import compat_modules, folder_paths
from graphflow.plugins.compat.graph_utils import GraphBuilder, add_graph_prefix
from graphflow.plugins.compat.missing import NotProvidedError
from graphflow.plugins.compat.prompt_server import set_message_sink
from graphflow.plugins.current import active, installation_for
from graphflow.plugins.web import pack_routes

from .helpers import executor_with, node, run


@pytest.fixture
def executor(tmp_path):
    return executor_with(tmp_path / "base", "compat")


def test_folder_paths_is_backed_by_the_runtime(executor):
    paths = executor.runtime.paths
    # The pack registered this kind at import, in the folders of the runtime it was first loaded into
    # (folder_paths is process-wide in ComfyUI too).
    with active(installation_for(executor.runtime)):
        registered = folder_paths.get_folder_paths("compat_things")[0]
    things = Path(registered) / "sub"
    things.mkdir(parents=True, exist_ok=True)
    (things / "a.safetensors").write_bytes(b"x")
    (things / "notes.txt").write_text("not a model")
    outcome, _ = run(
        executor,
        {"1": node("CompatFolders", name="pic.png [output]"), "2": node("PreviewAny", source=["1", 0])},
    )
    report = json.loads(outcome.outputs["2"]["text"][0])
    assert report["input"] == str(paths.input) and report["output"] == str(paths.output)
    assert report["temp"] == str(paths.temp) and report["models_dir"] == str(paths.models)
    assert str(paths.models / "checkpoints") in report["checkpoint_folders"]
    assert report["things"] == ["sub/a.safetensors"]  # a kind the pack registered at import
    assert report["annotated"] == str(paths.output / "pic.png")
    assert report["missing"] is None
    assert report["device"] == str(executor.runtime.device.device)


def test_file_combos_are_listed_afresh(executor):
    runtime = executor.runtime
    folder = runtime.paths.models / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    spec = runtime.registry.get("CompatPickCheckpoint")
    before = spec.object_info(runtime)["input"]["required"]["ckpt_name"][0]
    (folder / "fresh.safetensors").write_bytes(b"weights")
    after = spec.object_info(runtime)["input"]["required"]["ckpt_name"][0]
    assert "fresh.safetensors" not in before and "fresh.safetensors" in after
    prompt = {
        "1": node("CompatPickCheckpoint", ckpt_name="fresh.safetensors"),
        "2": node("PreviewAny", source=["1", 0]),
    }
    outcome, _ = run(executor, prompt)  # validation sees the new file too
    assert outcome.outputs["2"] == {"text": [str(folder / "fresh.safetensors")]}
    graph, report = executor.validate(
        {**prompt, "1": node("CompatPickCheckpoint", ckpt_name="gone.safetensors")}
    )
    assert (
        graph is None and report.comfy_json()["node_errors"]["1"]["errors"][0]["type"] == "value_not_in_list"
    )


def test_progress_bar_and_messages_reach_the_run(executor):
    messages = []
    set_message_sink(lambda event, data, sid: messages.append((event, data)))
    try:
        outcome, events = run(
            executor,
            {"1": node("CompatSteps", steps=3, stop_after=0), "2": node("PreviewAny", source=["1", 0])},
        )
    finally:
        set_message_sink(None)
    assert outcome.ok
    progress = [(e.value, e.max, e.preview) for e in events if isinstance(e, Progress)]
    assert progress == [
        (1, 3, "preview 1"),
        (2, 3, "preview 2"),
        (3, 3, "preview 3"),
    ]  # the image of the tuple
    assert messages == [("compat_pack.step", {"step": n}) for n in (1, 2, 3)]


def test_interrupt_from_model_management_stops_the_run(executor):
    outcome, events = run(
        executor, {"1": node("CompatSteps", steps=5, stop_after=2), "2": node("PreviewAny", source=["1", 0])}
    )
    assert outcome.status == "interrupted" and outcome.interrupted.node_id == "1"
    assert [e.value for e in events if isinstance(e, Progress)] == [1, 2]


def test_routes_registered_at_import_are_collected(executor):
    paths = [route.path for route in pack_routes()]
    assert "/compat_pack/hello" in paths


def test_graph_builder_ids_and_helpers():
    graph = GraphBuilder(prefix="p.")
    first = graph.node("A", value=1)
    second = graph.node("B", source=first.out(0))
    third = graph.node("C", source=first.out(0), other=first.out(1))
    assert graph.node("A", id="1") is first  # an id already present returns that node
    graph.replace_node_output("1", 0, 5)
    assert second.get_input("source") == 5 and third.inputs == {"source": 5, "other": ["p.1", 1]}
    third.set_override_display_id("9")
    graph.remove_node("2")
    assert graph.finalize() == {
        "p.1": {"class_type": "A", "inputs": {"value": 1}},
        "p.3": {"class_type": "C", "inputs": {"source": 5, "other": ["p.1", 1]}, "override_display_id": "9"},
    }
    renamed, outputs = add_graph_prefix(
        {"n": {"class_type": "A", "inputs": {"x": ["n", 0], "y": ["outside", 0]}}}, [["n", 0], 3], "q."
    )
    assert renamed == {"q.n": {"class_type": "A", "inputs": {"x": ["q.n", 0], "y": ["outside", 0]}}}
    assert outputs == (["q.n", 0], 3)


def test_default_prefixes_advance_per_builder():
    GraphBuilder.set_default_prefix("7", 2)
    assert GraphBuilder().prefix == "7.2.0." and GraphBuilder().prefix == "7.2.1."


def test_unprovided_names_fail_with_a_clear_error():
    with compat_modules():
        import comfy.utils

        with pytest.raises(NotProvidedError, match=r"comfy.utils.common_upscale is not provided"):
            comfy.utils.common_upscale  # noqa: B018
        with pytest.raises(
            NotProvidedError, match="comfy.samplers is a ComfyUI module graphflow does not emulate"
        ):
            import comfy.samplers
        assert not hasattr(comfy.utils, "__wrapped__")  # dunder probes stay plain AttributeErrors
