"""Every shell command in the README runs as written (the set-up and test blocks are run by .ci/run itself).

The commands run in a fresh folder that holds only what a reader has after cloning (``workflows/`` and
``examples/`` from the repository) with the project's environment on PATH; ``source .venv/bin/activate`` is
that environment, so it is skipped. The real-checkpoint example gets a file of the name it uses (the demo
checkpoint under that name: the loader infers everything from the file, as it does for SD1.5). ``graphflow
serve`` starts in the background and the commands after it talk to it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.server.process import READY

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "graphflow" / "data" / "checkpoints" / "graphflow-demo.safetensors"
FENCE = re.compile(r"(?P<marker><!--\s*ci:[^>]*-->\s*)?```bash\n(?P<body>.*?)```", re.S)
SKIPPED = {"source .venv/bin/activate"}

pytestmark = pytest.mark.slow


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text("utf-8")
    commands = []
    for block in FENCE.finditer(text):
        if block["marker"]:
            continue  # .ci/run runs these
        commands += [line for line in block["body"].splitlines() if line.strip() and line not in SKIPPED]
    return commands


def test_the_readme_has_commands_for_every_section():
    commands = readme_commands()
    assert any(c.startswith("graphflow run ") for c in commands)
    assert any(c.startswith("graphflow serve") for c in commands)
    assert any(c.startswith("curl ") for c in commands)


@pytest.fixture
def reader_folder(tmp_path: Path) -> Path:
    for name in ("workflows", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    # The checkpoint name the README's "your own checkpoints" command uses.
    checkpoints = tmp_path / "models" / "checkpoints"
    checkpoints.mkdir(parents=True)
    shutil.copyfile(DEMO, checkpoints / "v1-5-pruned-emaonly.safetensors")
    return tmp_path


def _start_server(command: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    server = subprocess.Popen(
        command,
        shell=True,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line and server.poll() is not None:
            break
        seen.append(line)
        if READY.search(line):
            return server
    server.kill()
    pytest.fail(f"`{command}` did not become ready:\n{''.join(seen)}")


def _wait_for_history(cwd: Path, env: dict[str, str]) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answer = subprocess.run(
            'curl -s "http://127.0.0.1:8188/api/history"',
            shell=True,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
        )
        history = json.loads(answer.stdout or "{}")
        if history and all(entry["status"].get("completed") for entry in history.values()):
            return history
        time.sleep(0.5)
    pytest.fail("the prompt queued with curl did not finish within 120 s")


@pytest.mark.skipif(not DEMO.exists(), reason="needs the demo checkpoint")
def test_every_readme_command_runs_as_written(reader_folder: Path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("GRAPHFLOW_BASE_DIR", None)
    server = None
    try:
        for command in readme_commands():
            if command.startswith("graphflow serve"):
                server = _start_server(command, reader_folder, env)
                continue
            done = subprocess.run(
                command, shell=True, cwd=reader_folder, env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, (
                f"`{command}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
            if command.startswith("curl "):
                answer = json.loads(done.stdout)
                assert "error" not in answer, f"`{command}` answered {answer}"
            if "/api/prompt" in command:
                assert answer["node_errors"] == {} and answer["prompt_id"]
                history = _wait_for_history(reader_folder, env)
                assert answer["prompt_id"] in history
            if command.startswith("graphflow nodes --packs"):
                assert "graphflow_example_pack" in done.stdout
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    pictures = sorted(p.name for p in (reader_folder / "output").glob("*.png"))
    # txt2img (prompt changed), a 4-seed sweep, the editor file, the PNG re-run, the real-checkpoint example
    # and the server's run all wrote pictures.
    assert len(pictures) >= 9, pictures
    assert json.loads((reader_folder / "txt2img_api.json").read_text())["3"]["class_type"] == "KSampler"
