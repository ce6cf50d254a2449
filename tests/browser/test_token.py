"""The access-token flow in a real browser: refused without the token; the printed ``?token=`` link sets a
cookie, and the unmodified editor's fetches and WebSocket then work by that cookie."""

from __future__ import annotations

import pytest

from .editor import open_editor, run_and_wait_for_image, set_widget

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def token_of(server) -> str:
    return (server.base / "user" / "graphflow_token.txt").read_text().strip()


def test_without_the_token_the_browser_gets_a_401_page(token_server, new_page):
    page, _ = new_page(token_server.url)
    response = page.goto(token_server.url + "/")
    assert response.status == 401
    assert "access token" in page.text_content("body")
    assert page.locator("canvas").count() == 0


def test_the_token_link_logs_the_browser_in_and_a_run_works(token_server, new_page, screenshot):
    page, watch = new_page(token_server.url)
    open_editor(page, f"{token_server.url}/?token={token_of(token_server)}")

    assert page.url == token_server.url + "/"  # the token left the address bar
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["graphflow_token"]["value"] == token_of(token_server)
    assert cookies["graphflow_token"]["httpOnly"] and cookies["graphflow_token"]["sameSite"] == "Strict"

    set_widget(page, "KSampler", "steps", 2)  # the run only has to prove the socket and /api/view work
    image = run_and_wait_for_image(page)
    assert "/api/view?" in image["src"]
    screenshot(page, "token_run")
    assert watch.problems() == []
