"""Route registration: every API route once, under its bare path and under ``/api`` (comfy-wire.md §1.1)."""

from __future__ import annotations

from aiohttp import web

API_PREFIX = "/api"


def add_mirrored(app: web.Application, table: web.RouteTableDef) -> None:
    """Register each route of ``table`` at ``path`` and at ``/api`` + ``path``."""
    for route in table:
        assert isinstance(route, web.RouteDef), "only plain routes are mirrored"
        for path in (route.path, API_PREFIX + route.path):
            if route.method == "GET":
                app.router.add_get(path, route.handler, **route.kwargs)
            else:
                app.router.add_route(route.method, path, route.handler, **route.kwargs)


def add_bare(app: web.Application, table: web.RouteTableDef) -> None:
    """Register routes only at their bare path (static files, ``/internal/*``)."""
    for route in table:
        assert isinstance(route, web.RouteDef)
        if route.method == "GET":
            app.router.add_get(route.path, route.handler, **route.kwargs)
        else:
            app.router.add_route(route.method, route.path, route.handler, **route.kwargs)
