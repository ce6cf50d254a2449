"""Finding and loading packs: isolation of failures, clashes, skipped names, order, module names, web files."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

from graphflow.bootstrap import create_runtime
from graphflow.events import Progress
from graphflow.plugins.loader import module_name_for
from graphflow.plugins.web import extension_file, extension_scripts, packs_json

from .helpers import FIXTURES, node, run


@pytest.fixture
def runtime(tmp_path):
    runtime = create_runtime(tmp_path / "base", custom_node_dirs=[FIXTURES])
    runtime.paths.ensure()
    return runtime


def _packs(runtime):
    return {pack.name: pack for pack in runtime.registry.packs}


def test_packs_load_in_sorted_order_and_skipped_names_never_import(runtime):
    names = [pack.name for pack in runtime.registry.packs]
    assert names == [
        "graphflow",
        "broken_pack",
        "clash_first",
        "clash_second",
        "native_shapes",
        "needs_model_internals",
        "not_a_pack",
        "single_file_pack",
        "text_tools",
        "v3_only_pack",
    ]  # README.txt, *.disabled files and folders are not packs


def test_a_pack_that_fails_to_import_registers_nothing(runtime):
    broken = _packs(runtime)["broken_pack"]
    assert broken.loaded is False and broken.nodes == []
    assert broken.error == "ModuleNotFoundError: No module named 'a_module_that_is_not_installed'"
    assert "a_module_that_is_not_installed" in broken.traceback
    assert "BrokenWouldBeNode" not in runtime.registry  # defined before the failing line, still absent
    assert module_name_for(FIXTURES / "broken_pack.py") not in sys.modules
    assert _packs(runtime)["single_file_pack"].loaded  # the others are unaffected


def test_model_internals_are_reported_as_not_provided(runtime):
    pack = _packs(runtime)["needs_model_internals"]
    assert pack.loaded is False
    assert "comfy.sd is a ComfyUI module graphflow does not emulate" in pack.error


def test_a_module_without_nodes_is_not_a_pack(runtime):
    pack = _packs(runtime)["not_a_pack"]
    assert pack.loaded is False and "not a node pack" in pack.error
    v3 = _packs(runtime)["v3_only_pack"]
    assert v3.loaded is False and "ComfyUI's V3 node API (comfy_entrypoint)" in v3.error


def test_clashes_are_recorded_on_both_packs_and_builtins_win(runtime):
    packs = _packs(runtime)
    assert packs["clash_first"].nodes == ["ClashEcho"]
    assert packs["clash_first"].clashes == [
        "PreviewAny: a built-in node type; packs cannot replace it",
        "ClashEcho: also defined by pack 'clash_second' (ignored)",
    ]
    assert packs["clash_second"].nodes == []
    assert packs["clash_second"].clashes == ["ClashEcho: already defined by pack 'clash_first'"]
    assert runtime.registry.get("PreviewAny").pack == "graphflow"
    assert runtime.registry.get("ClashEcho").pack == "clash_first"


def test_kinds_badges_and_web_directory(runtime):
    packs, registry = _packs(runtime), runtime.registry
    assert (packs["text_tools"].kind, packs["native_shapes"].kind) == ("classic", "native")
    assert packs["text_tools"].nodes == ["TextToolsShout", "TextToolsCountWords", "TextToolsSave"]
    assert packs["text_tools"].web_directory == os.path.realpath(FIXTURES / "text_tools" / "js")
    assert registry.get("TextToolsShout").python_module == "custom_nodes.text_tools"
    assert registry.get("SingleRepeatText").python_module == "custom_nodes.single_file_pack"
    assert registry.get("NativeCheckerboard").python_module == "custom_nodes.native_shapes"
    assert registry.get("TextToolsShout").display_name == "Shout Text"


def test_web_helpers_for_the_server(runtime):
    registry = runtime.registry
    assert extension_scripts(registry) == [
        "/extensions/text_tools/main.js",
        "/extensions/text_tools/widgets/counter.js",
    ]
    assert extension_file(registry, "text_tools", "widgets/counter.js").read_text().startswith("export")
    assert extension_file(registry, "text_tools", "../nodes.py") is None
    assert extension_file(registry, "text_tools", "missing.js") is None
    assert extension_file(registry, "single_file_pack", "x.js") is None
    by_name = {pack["name"]: pack for pack in packs_json(registry)}
    assert by_name["text_tools"]["web"] == "/extensions/text_tools/"
    assert by_name["broken_pack"]["loaded"] is False and by_name["broken_pack"]["web"] is None


def test_stand_in_modules_are_only_visible_while_pack_code_runs(runtime):
    for name in ("folder_paths", "comfy", "comfy.utils", "comfy_execution.graph_utils"):
        assert name not in sys.modules


def test_classic_and_native_fixture_packs_run(runtime, tmp_path):
    from graphflow.scheduler import Executor

    prompt = {
        "1": node("TextToolsShout", text="one two\nthree"),
        "2": node("TextToolsCountWords", text=["1", 0]),
        "3": node("PreviewAny", source=["2", 0]),
        "4": node("TextToolsSave", text=["1", 0], filename_prefix="notes/line"),
        "5": node("NativeCheckerboard", size=4, cells=2),
        "6": node("NativeCountPixels", image=["5", 0]),
        "7": node("PreviewAny", source=["6", 0]),
    }
    outcome, events = run(Executor(runtime), prompt)
    assert outcome.ok, outcome.error
    assert outcome.outputs["3"] == {"text": ["3"]} and outcome.outputs["7"] == {"text": ["8"]}
    saved = outcome.outputs["4"]["texts"]
    assert [s["filename"] for s in saved] == ["line_00001_.txt", "line_00002_.txt"]
    folder = runtime.paths.output / "notes"
    assert [(folder / s["filename"]).read_text() for s in saved] == ["ONE TWO", "THREE!"]
    progress = [(e.value, e.max) for e in events if isinstance(e, Progress) and e.node_id == "4"]
    assert progress == [(1, 2), (2, 2)]
    # The counter continues after existing files on the next run.
    again, _ = run(Executor(runtime), {**prompt, "1": node("TextToolsShout", text="x")})
    assert again.outputs["4"]["texts"][0]["filename"] == "line_00003_.txt"


def test_base_custom_nodes_env_folders_and_extra_dirs(tmp_path, monkeypatch):
    def write_pack(folder, name, class_type):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.py").write_text(
            textwrap.dedent(f"""
                class Node:
                    RETURN_TYPES = ("INT",)
                    FUNCTION = "run"
                    @classmethod
                    def INPUT_TYPES(cls):
                        return {{"required": {{}}}}
                    def run(self):
                        return (1,)
                NODE_CLASS_MAPPINGS = {{"{class_type}": Node}}
            """)
        )
        return folder

    base = tmp_path / "base"
    write_pack(base / "custom_nodes", "in_base", "FromBase")
    env_a, env_b = (
        write_pack(tmp_path / "env_a", "in_env_a", "FromEnvA"),
        write_pack(tmp_path / "env_b", "in_env_b", "FromEnvB"),
    )
    extra = write_pack(tmp_path / "extra", "in_extra", "FromExtra")
    monkeypatch.setenv("GRAPHFLOW_CUSTOM_NODES", os.pathsep.join([str(env_a), str(env_b)]))
    runtime = create_runtime(base, custom_node_dirs=[extra, env_a, tmp_path / "missing"])
    names = [pack.name for pack in runtime.registry.packs]
    assert names == ["graphflow", "in_base", "in_env_a", "in_env_b", "in_extra"]  # env_a only once
    assert all(name in runtime.registry for name in ("FromBase", "FromEnvA", "FromEnvB", "FromExtra"))


def test_same_pack_name_in_two_folders_gets_a_distinct_status(tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "twin.py").write_text(f"NODE_CLASS_MAPPINGS = {{}}\nWHERE = {folder!r}\n")
    runtime = create_runtime(tmp_path / "base", custom_node_dirs=[tmp_path / "one", tmp_path / "two"])
    twins = [pack for pack in runtime.registry.packs if pack.name.startswith("twin")]
    assert [(p.name, p.loaded) for p in twins] == [("twin", True), ("twin~2", True)]
    assert module_name_for(tmp_path / "one" / "twin.py") != module_name_for(tmp_path / "two" / "twin.py")
