"""Installed packs: the ``graphflow.nodes`` entry-point group (a fake distribution, and a real pip install)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from graphflow.bootstrap import create_runtime
from graphflow.scheduler import Executor

from .helpers import node, run

EXAMPLE_PACK = Path(__file__).resolve().parents[2] / "examples" / "graphflow-example-pack"


def _fake_distribution(site: Path) -> None:
    """A distribution as pip would install it: dist-info metadata with entry points, and its modules."""
    info = site / "gf_fake_packs-1.2.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gf-fake-packs\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent("""
            [graphflow.nodes]
            fake_native = gf_fake_native:all_nodes
            fake_classic = gf_fake_classic
            fake_missing = gf_fake_not_there
            graphflow = gf_fake_classic
        """)
    )
    (site / "gf_fake_native.py").write_text(
        textwrap.dedent("""
            from graphflow import Input, IntOutput, Node, NodeContext, node

            @node("FakeTriple", category="fake")
            class Triple(Node):
                value: int = Input(1)

                def run(self, ctx: NodeContext) -> IntOutput:
                    return IntOutput(self.value * 3)

            def all_nodes():
                return [Triple]
        """)
    )
    (site / "gf_fake_classic.py").write_text(
        textwrap.dedent("""
            class Negate:
                RETURN_TYPES = ("INT",)
                FUNCTION = "negate"

                @classmethod
                def INPUT_TYPES(cls):
                    return {"required": {"value": ("INT", {"default": 1})}}

                def negate(self, value):
                    return (-value,)

            NODE_CLASS_MAPPINGS = {"FakeNegate": Negate}
            WEB_DIRECTORY = "gf_fake_web"
        """)
    )
    (site / "gf_fake_web").mkdir()
    (site / "gf_fake_web" / "negate.js").write_text("export {};\n")


def test_entry_point_packs_load_first_in_sorted_order(tmp_path, monkeypatch):
    site = tmp_path / "site"
    _fake_distribution(site)
    monkeypatch.syspath_prepend(str(site))
    runtime = create_runtime(tmp_path / "base")
    packs = {pack.name: pack for pack in runtime.registry.packs}
    fake = [p.name for p in runtime.registry.packs if p.source.startswith("gf-fake-packs")]
    assert fake == ["fake_classic", "fake_missing", "fake_native", "graphflow~2"]
    assert packs["fake_native"].kind == "entry-point" and packs["fake_native"].nodes == ["FakeTriple"]
    assert packs["fake_native"].source == "gf-fake-packs 1.2 (gf_fake_native:all_nodes)"
    assert packs["fake_missing"].loaded is False and "gf_fake_not_there" in packs["fake_missing"].error
    assert packs["graphflow~2"].clashes == ["FakeNegate: already defined by pack 'fake_classic'"]
    assert runtime.registry.get("FakeTriple").python_module == "custom_nodes.fake_native"
    assert runtime.registry.get("FakeNegate").python_module == "custom_nodes.fake_classic"
    assert packs["fake_classic"].web_directory == os.path.realpath(site / "gf_fake_web")
    prompt = {
        "1": node("FakeTriple", value=5),
        "2": node("FakeNegate", value=["1", 0]),
        "3": node("PreviewAny", source=["2", 0]),
    }
    outcome, _ = run(Executor(runtime), prompt)
    assert outcome.outputs["3"] == {"text": ["-15"]}


def _graphflow(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graphflow.cli.main", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _offline_build_path() -> str | None:
    """A sys.path folder whose setuptools builds wheels by itself (>= 70.1), to build without network.

    A venv made with ``python -m venv`` on Python 3.11 carries setuptools 65, which needs the ``wheel``
    package; a newer setuptools reachable on sys.path (the base environment) is put first instead.
    """
    best = None
    for dist in importlib.metadata.distributions(name="setuptools"):
        version = tuple(int(part) for part in dist.version.split(".")[:2] if part.isdigit())
        if version >= (70, 1) and (best is None or version > best[0]):
            best = (version, str(dist.locate_file("")))
    if best is not None:
        return best[1]
    return "" if importlib.util.find_spec("wheel") is not None else None


@pytest.mark.slow
def test_pip_install_makes_the_example_pack_appear_and_run(tmp_path):
    build_path = _offline_build_path()
    if build_path is None:
        pytest.skip("building the example pack offline needs setuptools >= 70.1 or the wheel package")
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE_PACK, source)  # build in a copy: setuptools writes build files next to the source
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--target", str(target), str(source)],
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [build_path, os.environ.get("PYTHONPATH")])),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    base = tmp_path / "base"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("GRAPHFLOW_CUSTOM_NODES", None)
    before = _graphflow(env, "nodes", "--base-directory", base)
    assert before.returncode == 0 and "ExampleImageGrid" not in before.stdout

    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), env.get("PYTHONPATH")]))
    listed = _graphflow(env, "nodes", "--base-directory", base)
    assert "ExampleImageGrid" in listed.stdout and "ExampleTextTemplate" in listed.stdout
    packs = _graphflow(env, "nodes", "--packs", "--base-directory", base)
    line = next(line for line in packs.stdout.splitlines() if line.startswith("example_pack"))
    assert line.split()[:4] == ["example_pack", "entry-point", "ok", "2"]
    assert "graphflow-example-pack 0.1.0 (graphflow_example_pack)" in line

    workflow = tmp_path / "template.json"
    workflow.write_text(
        json.dumps(
            {
                "1": node("ExampleTextTemplate", template="{a} in {b}", a="a fox", b="snow"),
                "2": node("PreviewAny", source=["1", 0]),
                "3": node("EmptyImage", width=8, height=6, batch_size=3, color=0xFFFFFF),
                "4": node("ExampleImageGrid", images=["3", 0], columns=2, gap=2, background=0.0),
                "5": node("PreviewAny", source=["4", 0]),
            }
        )
    )
    ran = _graphflow(env, "run", workflow, "--base-directory", base, "--json")
    assert ran.returncode == 0, ran.stderr
    record = json.loads(ran.stdout)
    assert record["outputs"]["2"] == {"text": ["a fox in snow"]}
    # 3 images of 6x8 in 2 columns with a 2 px gap: 2 rows -> 14 x 18; the empty cell stays black.
    assert record["outputs"]["5"]["text"][0].startswith(
        "tensor of shape [1, 14, 18, 3], float32, min 0, max 1"
    )
