"""``graphflow serve`` as a real process on 127.0.0.1 (a free port), for durability and browser tests."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NODES_FILE = Path(__file__).with_name("nodes_for_server.py")
READY = re.compile(r"graphflow: ready at (http://127\.0\.0\.1:\d+)/")


class ServerProcess:
    """``graphflow serve --port 0 --base-directory BASE`` in its own process.

    ``test_nodes`` loads the slow test node (``nodes_for_server.py``) as a pack; ``args`` are added to the
    command line (e.g. ``["--require-token"]``).
    """

    def __init__(self, base: Path, args: Sequence[str] = (), *, test_nodes: bool = True) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "graphflow.cli.main", "serve", "--port", "0"]
        command += ["--base-directory", str(base), *args]
        if test_nodes:
            packs = base.parent / "packs"
            packs.mkdir(exist_ok=True)
            shutil.copy(NODES_FILE, packs / "server_test_nodes.py")
            command += ["--custom-nodes", str(packs)]
        self.base = base
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.url = ""
        lines = []
        for line in self.process.stdout:
            lines.append(line)
            match = READY.search(line)
            if match:
                self.url = match.group(1)
                break
        if not self.url:
            raise RuntimeError("server did not start:\n" + "".join(lines))
        self.lines = lines
        # keep reading its output, so a chatty server never blocks on a full pipe
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode
