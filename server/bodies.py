"""Reading request bodies and query values: malformed input is a 400 that says what is wrong, never a 500."""

from __future__ import annotations

import errno
import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn

from aiohttp import web


def error_body(kind: str, message: str, details: str = "", **extra: Any) -> dict[str, Any]:
    """ComfyUI's error object shape, used for every graphflow 4xx JSON answer."""
    return {"error": {"type": kind, "message": message, "details": details, "extra_info": extra}}


def fail(status: int, kind: str, message: str, details: str = "", **extra: Any) -> NoReturn:
    """Stop the request with ``status`` and a JSON error body."""
    body = error_body(kind, message, details, **extra)
    if status == 400:  # /prompt clients read node_errors from every 400
        body["node_errors"] = {}
    raise _http_error(status)(text=json.dumps(body), content_type="application/json")


def _http_error(status: int) -> type[web.HTTPException]:
    return {
        400: web.HTTPBadRequest,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
        409: web.HTTPConflict,
        413: web.HTTPRequestEntityTooLarge,
    }.get(status, web.HTTPBadRequest)


#: What the OS says about a path a *user* chose (too long, a file where a folder should be, ...).
USER_PATH_ERRNOS = frozenset(
    {errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ELOOP, errno.EINVAL}
)


def path_errors(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Answer 400 when the OS refuses a user-chosen path; other OS errors stay server errors (500)."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except OSError as error:
            if error.errno in USER_PATH_ERRNOS:
                fail(400, "invalid_path", f"That path cannot be used: {error.strerror}.")
            raise

    return wrapper


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON; send numbers as finite values")


def parse_json(text: str | bytes, max_depth: int) -> Any:
    """Strict JSON: no NaN/Infinity, nesting at most ``max_depth``. Raises ValueError with a reason."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    if _depth_exceeds(value, max_depth):
        raise ValueError(f"the JSON is nested more than {max_depth} levels deep")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True if containers nest deeper than ``limit`` (iterative; only containers are visited)."""
    if not isinstance(value, (dict, list)):
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


async def read_json(request: web.Request, *, max_depth: int = 256, allow_empty: bool = False) -> Any:
    """The request body as JSON, or a 400 naming the problem (``None`` for an empty body if allowed)."""
    raw = await request.read()
    if not raw.strip():
        if allow_empty:
            return None
        fail(400, "invalid_json", "The request body is empty; send a JSON object.")
    try:
        return parse_json(raw, max_depth)
    except UnicodeDecodeError:
        fail(400, "invalid_json", "The request body is not UTF-8 text.")
    except ValueError as error:
        fail(400, "invalid_json", "The request body is not valid JSON.", str(error))


async def read_json_object(request: web.Request, *, max_depth: int = 256, allow_empty: bool = False) -> dict:
    body = await read_json(request, max_depth=max_depth, allow_empty=allow_empty)
    if body is None:
        return {}
    if not isinstance(body, dict):
        fail(400, "invalid_json", f"The request body must be a JSON object, not {_json_kind(body)}.")
    return body


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


QUERY_INT_LIMIT = (1 << 31) - 1  # sums of two stay within SQLite's 64-bit integers


def query_int(query: Mapping[str, str], name: str, default: int, *, minimum: int | None = None) -> int:
    """An integer query parameter (huge values are capped), or a 400 that names it."""
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        fail(400, "invalid_query", f"Query parameter {name!r} must be a whole number, got {text[:40]!r}.")
    if minimum is not None and value < minimum:
        fail(400, "invalid_query", f"Query parameter {name!r} must be at least {minimum}.")
    return max(-QUERY_INT_LIMIT, min(value, QUERY_INT_LIMIT))


def query_bool(query: Mapping[str, str], name: str, default: bool) -> bool:
    text = query.get(name)
    if text is None:
        return default
    return text.strip().lower() in ("1", "true", "yes", "on")


def string_list(value: Any, what: str) -> list[str]:
    """A JSON array of ids (strings or numbers) as strings, or a 400."""
    if not isinstance(value, list) or not all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
    ):
        fail(400, "invalid_request", f"{what} must be a list of ids (strings).")
    return [str(v) for v in value]
