"""aiohttp server speaking the ComfyUI HTTP/WebSocket API (installed as graphflow.server)."""
