"""Request guards: unexpected errors become logged 500s, cross-site requests are refused, tokens checked.

- **Errors.** Any exception a handler did not turn into an HTTP answer is logged with its traceback and
  answered with a generic 500; user mistakes are 4xx answers raised by the handlers themselves.
- **Cross-site.** When the ``Host`` is a loopback name, a request whose ``Origin`` names another host is
  refused (403), as ComfyUI does; so is any request marked ``Sec-Fetch-Site: cross-site``. A server bound
  only to loopback also refuses ``Host`` names that are not loopback (DNS rebinding).
- **Token.** A server listening beyond loopback requires the install's access token, as
  ``Authorization: Bearer <token>``, ``?token=<token>`` or the ``graphflow_token`` cookie, which is set
  when a valid ``?token=`` is used, so opening the printed URL once logs the browser in.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from .config import ServerConfig, is_loopback

log = logging.getLogger(__name__)

TOKEN_COOKIE = "graphflow_token"
TOKEN_FILE = "graphflow_token.txt"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def load_or_create_token(user_root: Path) -> tuple[str, bool]:
    """The install's access token from ``<user>/graphflow_token.txt``; ``(token, True)`` if just made."""
    path = user_root / TOKEN_FILE
    try:
        token = path.read_text(encoding="utf-8").strip()
        if len(token) >= 16:
            return token, False
    except FileNotFoundError:
        pass
    user_root.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token, True


def _json_response(status: int, kind: str, message: str) -> web.Response:
    body = {"error": {"type": kind, "message": message, "details": "", "extra_info": {}}}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (web.HTTPException, asyncio.CancelledError):
        raise
    except ConnectionResetError:
        raise
    except Exception:
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return _json_response(500, "internal_error", "Internal server error; the server log has the details.")


def _hostname(host_header: str) -> str | None:
    try:
        return urlsplit("//" + host_header).hostname
    except ValueError:
        return None


def security_middleware(config: ServerConfig) -> Callable:
    """The origin guard and (when ``config.token`` is set) the token check, as one middleware."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return web.Response(status=200)
        host = request.headers.get("Host", "")
        hostname = _hostname(host)
        if hostname is None:
            return _json_response(400, "bad_host", "The Host header is malformed.")
        loopback_host = is_loopback(hostname)
        if config.loopback_only and not loopback_host:
            return _json_response(
                403, "forbidden", "This server only answers requests addressed to localhost."
            )
        origin = request.headers.get("Origin")
        if origin is not None and loopback_host and urlsplit(origin).netloc.lower() != host.lower():
            return _json_response(403, "forbidden", "Cross-origin requests are not allowed.")
        if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
            return _json_response(403, "forbidden", "Cross-site requests are not allowed.")
        if config.token is None:
            return await handler(request)
        from_query = request.query.get("token")
        presented = _bearer(request) or from_query or request.cookies.get(TOKEN_COOKIE)
        if not presented or not hmac.compare_digest(
            presented.encode("utf-8", "replace"), config.token.encode()
        ):
            response = _unauthorized(request)
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        response = await handler(request)
        if from_query and request.cookies.get(TOKEN_COOKIE) != config.token and not response.prepared:
            response.set_cookie(TOKEN_COOKIE, config.token, httponly=True, samesite="Strict", path="/")
        return response

    return guard


UNAUTHORIZED = "This server needs its access token: open the URL printed at start-up."
UNAUTHORIZED_PAGE = f"""<!doctype html><meta charset="utf-8"><title>graphflow: access token needed</title>
<p>{UNAUTHORIZED} It ends in <code>?token=…</code>; the token is also stored in
<code>user/{TOKEN_FILE}</code> under the server's base directory.</p>
"""


def _unauthorized(request: web.Request) -> web.Response:
    """A 401: a short page for a browser opening a page, ComfyUI's JSON error otherwise."""
    if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
        response = web.Response(status=401, text=UNAUTHORIZED_PAGE, content_type="text/html")
    else:
        response = _json_response(401, "unauthorized", UNAUTHORIZED)
    response.headers["Cache-Control"] = "no-store"
    return response


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
