"""Server settings: where it listens, size limits, history length, the access token."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIB = 1024 * 1024

#: Pre-seeded answers of ``GET /settings`` (a user's stored settings override them). The front-end helper
#: fills this; the server only merges it.
DEFAULT_SETTINGS: dict[str, Any] = {}


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``); brackets are allowed."""
    host = host.strip().strip("[]").lower()
    if host in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class ServerConfig:
    """How one server instance behaves.

    ``max_upload_size``: bytes accepted in one request body (ComfyUI's ``--max-upload-size``, 100 MiB).
    ``max_upload_pixels``: width × height accepted for an uploaded image.
    ``history_size``: finished prompts kept (the oldest are pruned; ComfyUI keeps 10000).
    ``token``: the access token every request must carry, or None when only loopback clients can connect.
    ``preview_size``: longest side of JPEG step previews sent over the WebSocket.
    ``database``: the SQLite file for queue and history (default ``<user>/graphflow.sqlite3``).
    ``devices``: one worker per entry (``None`` = the runtime's default device).
    """

    listen: str = "127.0.0.1"
    port: int = 8188
    max_upload_size: int = 100 * MIB
    max_upload_pixels: int = 100_000_000
    history_size: int = 10_000
    token: str | None = None
    preview_size: int = 512
    database: Path | None = None
    devices: tuple[str | None, ...] = (None,)
    settings_defaults: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    max_json_depth: int = 256

    @property
    def loopback_only(self) -> bool:
        return all(is_loopback(host) for host in self.listen_hosts)

    @property
    def listen_hosts(self) -> list[str]:
        return [h.strip() for h in self.listen.split(",") if h.strip()] or ["127.0.0.1"]

    def features(self) -> dict[str, Any]:
        """The server feature flags (``GET /features`` and the WebSocket handshake reply)."""
        return {"supports_preview_metadata": True, "max_upload_size": self.max_upload_size}
