"""Recent log lines for ``/internal/logs``, and live ``logs`` messages to subscribed sockets."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

TERMINAL_SIZE = {"cols": 120, "rows": 40}


class LogBuffer(logging.Handler):
    """Keeps the last ``capacity`` formatted records; ``send(client_id, entries)`` pushes new ones live."""

    def __init__(self, capacity: int = 2000) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.entries: deque[dict[str, str]] = deque(maxlen=capacity)
        self.subscribers: set[str] = set()
        self.send: Callable[[str, list[dict[str, str]]], None] | None = None
        self._entries_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            self.handleError(record)
            return
        stamp = datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat()
        entry = {"t": stamp, "m": text + "\n"}
        with self._entries_lock:
            self.entries.append(entry)
        send = self.send
        if send is not None:
            for client_id in tuple(self.subscribers):
                send(client_id, [entry])

    def snapshot(self) -> list[dict[str, str]]:
        with self._entries_lock:
            return list(self.entries)

    def text(self) -> str:
        return "".join(entry["m"] for entry in self.snapshot())

    def raw(self) -> dict[str, Any]:
        return {"entries": self.snapshot(), "size": dict(TERMINAL_SIZE)}
