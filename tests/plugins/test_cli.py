"""The CLI with packs: `graphflow nodes --packs`, `graphflow nodes --json`, `graphflow run --custom-nodes`."""

from __future__ import annotations

import json

from graphflow.cli.main import main

from .helpers import FIXTURES, PACKS, node


def _cli(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_nodes_packs_lists_packs_errors_and_clashes(tmp_path, capsys):
    status, out, _ = _cli(
        capsys, "nodes", "--packs", "--custom-nodes", FIXTURES, "--base-directory", tmp_path
    )
    assert status == 0
    lines = out.splitlines()
    broken = next(i for i, line in enumerate(lines) if line.startswith("broken_pack"))
    assert "FAILED" in lines[broken] and "0 nodes" in lines[broken]
    assert (
        lines[broken + 1].strip()
        == "error: ModuleNotFoundError: No module named 'a_module_that_is_not_installed'"
    )
    assert any(line.startswith("text_tools") and "classic" in line and "3 nodes" in line for line in lines)
    assert "    clash: ClashEcho: already defined by pack 'clash_first'" in lines
    status, out, _ = _cli(
        capsys, "nodes", "--packs", "--json", "--custom-nodes", FIXTURES, "--base-directory", tmp_path
    )
    packs = {pack["name"]: pack for pack in json.loads(out)}
    assert packs["native_shapes"]["nodes"] == ["NativeCheckerboard", "NativeCountPixels"]


def test_nodes_json_includes_pack_nodes(tmp_path, capsys):
    status, out, _ = _cli(capsys, "nodes", "--json", "--custom-nodes", FIXTURES, "--base-directory", tmp_path)
    info = json.loads(out)
    assert info["TextToolsShout"]["python_module"] == "custom_nodes.text_tools"
    assert info["TextToolsShout"]["input"]["required"]["text"] == [
        "STRING",
        {"multiline": True, "default": "hello"},
    ]
    assert "BrokenWouldBeNode" not in info


def test_run_with_custom_nodes(tmp_path, capsys):
    workflow = tmp_path / "lists.json"
    workflow.write_text(
        json.dumps(
            {
                "1": node("ListMake", count=3, start=5),
                "2": node("ListTotal", values=["1", 0], scale=2),
            }
        )
    )
    status, out, _ = _cli(
        capsys,
        "run",
        workflow,
        "--custom-nodes",
        PACKS / "lists",
        "--base-directory",
        tmp_path / "base",
        "--json",
    )
    assert status == 0
    record = json.loads(out)
    assert record["status"] == "success" and record["outputs"] == {"2": {"text": ["[5, 6, 7]x[2]"]}}


def test_run_reports_a_failing_classic_node(tmp_path, capsys):
    workflow = tmp_path / "cycle.json"
    workflow.write_text(json.dumps({"1": node("ExpMakeCycle"), "2": node("PreviewAny", source=["1", 0])}))
    status, out, _ = _cli(
        capsys, "run", workflow, "--custom-nodes", PACKS / "expansion", "--base-directory", tmp_path / "base"
    )
    assert status == 3
    assert out.startswith("failed in node 1 (ExpMakeCycle): graphflow.expansion.ExpansionError:")


def test_run_refuses_a_workflow_whose_pack_failed(tmp_path, capsys):
    workflow = tmp_path / "broken.json"
    workflow.write_text(
        json.dumps({"1": node("BrokenWouldBeNode"), "2": node("PreviewAny", source=["1", 0])})
    )
    status, out, err = _cli(
        capsys, "run", workflow, "--custom-nodes", FIXTURES, "--base-directory", tmp_path / "base"
    )
    assert status == 1
    assert "error: Cannot execute because node BrokenWouldBeNode does not exist. (Node ID '#1')" in err
    assert (
        "node packs that failed to import: broken_pack, needs_model_internals, not_a_pack, v3_only_pack"
        in err
    )
