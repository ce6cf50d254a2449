"""The graphflow command line on workflows built from the utility nodes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from graphflow.cli.main import main
from graphflow.workflow import api_to_editor, png_text_chunks

PROMPT = {
    "1": {
        "class_type": "EmptyImage",
        "inputs": {"width": 4, "height": 4, "batch_size": 1, "color": 0},
        "_meta": {"title": "Canvas"},
    },
    "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    "3": {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}},
}


@pytest.fixture
def workflow_file(tmp_path):
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(PROMPT))
    return path


def run_cli(capsys, *args):
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_help_explains_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("run", "validate", "convert", "nodes", "serve"):
        assert command in out
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "--set NODE.INPUT=VALUE" in out and "--repeat N" in out and "exit status" in out


def test_run_json_reports_outputs_and_what_ran(capsys, workflow_file, tmp_path):
    status, out, _ = run_cli(capsys, "run", str(workflow_file), "--json", "--base-directory", str(tmp_path))
    assert status == 0
    (record,) = json_lines(out)
    assert record["status"] == "success"
    assert record["executed"] == ["1", "2", "3"] and record["cached"] == []
    assert record["outputs"]["3"]["text"] == ["tensor of shape [1, 4, 4, 3], float32, min 1, max 1"]
    assert record["seconds"] > 0


def test_sweep_reuses_the_cache_between_variants(capsys, workflow_file, tmp_path):
    status, out, _ = run_cli(
        capsys,
        "run",
        str(workflow_file),
        "--json",
        "--set",
        "Canvas.color=0,16777215",
        "--repeat",
        "2",
        "--base-directory",
        str(tmp_path),
    )
    assert status == 0
    records = json_lines(out)
    assert [r["set"] for r in records] == [{"Canvas.color": 0}] * 2 + [{"Canvas.color": 16777215}] * 2
    assert records[0]["executed"] == ["1", "2", "3"]
    assert records[1]["executed"] == [] and sorted(records[1]["cached"]) == ["1", "2", "3"]
    assert records[2]["executed"] == ["1", "2", "3"]
    assert records[2]["outputs"]["3"]["text"] == ["tensor of shape [1, 4, 4, 3], float32, min 0, max 0"]


def test_set_errors_are_explained(capsys, workflow_file, tmp_path):
    status, _, err = run_cli(
        capsys, "run", str(workflow_file), "--set", "nope.color=1", "--base-directory", str(tmp_path)
    )
    assert status == 2 and "no node with id, title or type 'nope'" in err
    status, _, err = run_cli(
        capsys, "run", str(workflow_file), "--set", "1.width=0", "--base-directory", str(tmp_path)
    )
    assert status == 1
    assert "node 1 (EmptyImage \"Canvas\"), input 'width': Value 0 smaller than min of 1" in err


def test_validate_exit_status_and_messages(capsys, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(PROMPT))
    status, out, _ = run_cli(capsys, "validate", str(good), "--base-directory", str(tmp_path))
    assert status == 0 and out.startswith("ok: 3 nodes")
    bad = dict(PROMPT)
    bad["2"] = {"class_type": "ImageInvert", "inputs": {"image": ["7", 0]}}
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps(bad))
    status, out, _ = run_cli(capsys, "validate", str(bad_file), "--base-directory", str(tmp_path))
    assert status == 1
    assert "error: node 2 (ImageInvert \"Invert Image\"), input 'image': Input is linked to node 7" in out
    status, out, _ = run_cli(capsys, "validate", str(bad_file), "--json", "--base-directory", str(tmp_path))
    assert json.loads(out)["node_errors"]["2"]["errors"][0]["type"] == "missing_link_source"


def test_convert_editor_workflow_and_run_it(capsys, tmp_path, runtime):
    editor = api_to_editor(PROMPT, runtime.registry.object_info(runtime))
    path = tmp_path / "editor.json"
    path.write_text(json.dumps(editor))
    status, out, _ = run_cli(capsys, "convert", str(path), "--base-directory", str(tmp_path))
    assert status == 0
    converted = json.loads(out)
    assert {k: (v["class_type"], v["inputs"]) for k, v in converted.items()} == {
        k: (v["class_type"], v["inputs"]) for k, v in PROMPT.items()
    }
    status, out, _ = run_cli(capsys, "run", str(path), "--json", "--base-directory", str(tmp_path))
    assert status == 0 and json_lines(out)[0]["status"] == "success"


def test_run_a_png_with_an_embedded_prompt(capsys, tmp_path):
    png = tmp_path / "made.png"
    Image.new("RGB", (4, 4)).save(png, pnginfo=png_text_chunks(PROMPT, {"workflow": {"nodes": []}}))
    status, out, _ = run_cli(capsys, "run", str(png), "--json", "--base-directory", str(tmp_path))
    assert status == 0 and json_lines(out)[0]["outputs"]["3"]["text"][0].startswith(
        "tensor of shape [1, 4, 4, 3]"
    )


def test_unreadable_workflow_is_a_clear_error(capsys, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    status, _, err = run_cli(capsys, "run", str(path), "--base-directory", str(tmp_path))
    assert status == 1 and err.startswith("graphflow: ") and "Traceback" not in err


def test_nodes_lists_types_and_object_info(capsys, tmp_path):
    status, out, _ = run_cli(capsys, "nodes", "--base-directory", str(tmp_path))
    assert status == 0 and "ImageInvert" in out and "PreviewAny" in out and "[output]" in out
    status, out, _ = run_cli(capsys, "nodes", "--json", "--base-directory", str(tmp_path))
    assert json.loads(out)["ImageInvert"]["display_name"] == "Invert Image"


def test_the_installed_command_runs(tmp_path, workflow_file):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "graphflow.cli.main",
            "run",
            str(workflow_file),
            "--json",
            "--base-directory",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["status"] == "success"
