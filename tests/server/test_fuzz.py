"""Property tests: thousands of malformed and hostile requests never get a 5xx, and the worker still runs
a valid prompt afterwards. Requests go over a keep-alive HTTP connection to a real server on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SAFE_TYPES = [
    "PrimitiveInt",
    "PrimitiveFloat",
    "PrimitiveString",
    "PrimitiveStringMultiline",
    "PrimitiveBoolean",
    "PreviewAny",
    "ImageInvert",
    "ServerTestFail",
    "ServerTestSave",
]  # fmt: skip  (no EmptyImage or ServerTestSleep: valid huge sizes or long sleeps would only waste time)
INPUT_NAMES = ["value", "source", "image", "width", "height", "color", "steps", "x", "", "__proto__"]
FUZZ = settings(
    max_examples=1500,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip
node_ids = st.sampled_from(["1", "2", "3", "out", "", "0x1"]) | st.text(max_size=6)
links = st.tuples(node_ids | st.integers(-2, 5), st.integers(-3, 5) | st.text(max_size=3)).map(list)
input_values = json_values | links | st.builds(lambda v: {"__value__": v}, json_values)
nodes = st.fixed_dictionaries(
    {"class_type": st.sampled_from(SAFE_TYPES) | st.text(max_size=12) | json_values},
    optional={
        "inputs": st.dictionaries(
            st.sampled_from(INPUT_NAMES) | st.text(max_size=6), input_values, max_size=4
        )
        | json_values,
        "_meta": json_values,
    },
)
REAL_INPUTS = {
    "PrimitiveInt": ["value"], "PrimitiveFloat": ["value"], "PrimitiveString": ["value"],
    "PrimitiveStringMultiline": ["value"], "PrimitiveBoolean": ["value"], "PreviewAny": ["source"],
    "ImageInvert": ["image"], "ServerTestFail": ["value"], "ServerTestSave": ["value"],
}  # fmt: skip


@st.composite
def structured_prompts(draw) -> dict[str, Any]:
    """Mostly valid graphs of real node types, each with some damage: odd values, dangling or cyclic
    links, unknown inputs or types; the last node is usually a PreviewAny of an earlier node."""
    count = draw(st.integers(1, 6))
    ids = [str(i) for i in range(count)]
    plain = st.integers(-1000, 1000) | st.floats(-1e3, 1e3) | st.text(max_size=12) | st.booleans()
    prompt: dict[str, Any] = {}
    for index, node_id in enumerate(ids):
        earlier = ids[:index] or ids
        link = st.tuples(st.sampled_from(earlier), st.sampled_from([0, 0, 0, 1])).map(list)
        odd_link = st.tuples(st.sampled_from([*ids, "99"]), st.integers(-1, 2)).map(list)
        last = index == count - 1
        class_type = (
            "PreviewAny" if last and count > 1 else draw(st.sampled_from([*SAFE_TYPES, "Nonexistent"]))
        )
        widget = class_type.startswith("Primitive")
        value = (
            st.one_of(plain, plain, plain, input_values, odd_link)
            if widget
            else st.one_of(link, link, link, odd_link, input_values)
        )
        inputs = {name: draw(value) for name in REAL_INPUTS.get(class_type, ["value"])}
        damage = draw(st.sampled_from(["none"] * 6 + ["extra", "drop", "type"]))
        if damage == "extra":
            inputs[draw(st.text(max_size=5))] = draw(input_values)
        elif damage == "drop" and inputs:
            inputs.popitem()
        elif damage == "type":
            class_type = draw(st.text(max_size=8) | st.sampled_from(SAFE_TYPES))
        prompt[node_id] = {"class_type": class_type, "inputs": inputs}
    return prompt


prompts = structured_prompts() | st.dictionaries(node_ids, nodes | json_values, max_size=5) | json_values
editor_workflows = st.fixed_dictionaries(
    {
        "nodes": st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.integers(-1, 5) | st.text(max_size=3),
                    "type": st.sampled_from(SAFE_TYPES) | st.text(max_size=8),
                },
                optional={
                    "inputs": st.lists(json_values, max_size=3),
                    "outputs": st.lists(json_values, max_size=3),
                    "widgets_values": json_values,
                    "mode": st.integers(-1, 5) | json_values,
                },
            )
            | json_values,
            max_size=4,
        ),
        "links": st.lists(st.lists(json_values | st.integers(-1, 5), max_size=7) | json_values, max_size=4),
    },
    optional={"version": json_values, "definitions": json_values, "extra": json_values},
)
prompt_bodies = st.fixed_dictionaries(
    {"prompt": prompts | editor_workflows},
    optional={
        "client_id": json_values,
        "prompt_id": st.text(max_size=40) | json_values,
        "number": json_values,
        "front": json_values,
        "extra_data": json_values | st.fixed_dictionaries({"extra_pnginfo": json_values}),
        "partial_execution_targets": st.lists(node_ids | json_values, max_size=3) | json_values,
    },
)


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


raw_bodies = (
    structured_prompts().map(lambda prompt: encode({"prompt": prompt}))
    | st.tuples(structured_prompts(), st.text(max_size=8)).map(
        lambda t: encode({"prompt": t[0], "client_id": t[1]})
    )
    | st.binary(max_size=120)
    | json_values.map(encode)
    | prompt_bodies.map(encode)
    | editor_workflows.map(encode)
    | st.sampled_from([b"[" * 5000, b'{"prompt": NaN}', b'{"number": Infinity}', b"1" * 5000, b"\xff\xfe"])
)
POST_ROUTES = [
    "/prompt", "/api/prompt", "/queue", "/history", "/interrupt", "/free", "/jobs/cancel", "/jobs/x/cancel",
    "/settings", "/settings/Comfy.X", "/userdata/workflows%2Ffuzz.json", "/upload/image", "/upload/mask",
    "/users", "/userdata/a.json/move/b.json",
]  # fmt: skip
GET_TEMPLATES = [
    "/history?{q}", "/history/{s}", "/jobs?{q}", "/jobs/{s}", "/view?{q}", "/userdata?{q}", "/v2/userdata?{q}",
    "/object_info/{s}", "/models/{s}", "/view_metadata/{s}?{q}", "/internal/files/{s}", "/experiment/models/{s}",
    "/userdata/{s}", "/settings/{s}", "/extensions/{s}/{s}", "/api/workflow_templates/{s}/{s}",
    "/experiment/models/preview/{s}/{s}/{s}",
]  # fmt: skip
QUERY_KEYS = ["max_items", "offset", "status", "limit", "filename", "subfolder", "type", "preview", "channel",
              "dir", "path", "recurse", "full_info", "split", "sort_order"]  # fmt: skip
query_values = (
    st.text(max_size=20) | st.integers(-(2**70), 2**70).map(str) | st.sampled_from(["..", "/", "%00"])
)
queries = st.dictionaries(st.sampled_from(QUERY_KEYS), query_values, max_size=4).map(lambda d: urlencode(d))
segments = (st.text(min_size=1, max_size=20) | st.sampled_from(["..", "%2e%2e", ".", "output"])).map(
    lambda s: quote(s, safe="%")
)


class Http:
    """A keep-alive HTTP/1.1 client; reconnects after the server closes a connection (e.g. after a 413)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.count = 0

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None):
        headers = {"Content-Type": content_type} if content_type else {}
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                self.count += 1
                if response.getheader("Connection", "").lower() == "close":
                    self.connection.close()
                return response.status, data
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def assert_valid_prompt_still_runs(http_client: Http) -> None:
    prompt = {
        "1": {"class_type": "PrimitiveInt", "inputs": {"value": 424242}},
        "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
    }
    status, body = http_client.request(
        "POST", "/prompt", encode({"prompt": prompt, "prompt_id": "after-fuzz"})
    )
    assert status == 200, body
    for _ in range(6000):
        status, body = http_client.request("GET", "/history/after-fuzz")
        entry = json.loads(body).get("after-fuzz")
        if entry:
            assert entry["outputs"] == {"2": {"text": ["424242"]}}
            return
        time.sleep(0.01)
    raise AssertionError("the worker did not run a valid prompt after the fuzzing")


@pytest.mark.slow
def test_hostile_prompts_never_500(server):
    client = Http(server.port)

    @FUZZ
    @given(body=raw_bodies)
    def check(body: bytes) -> None:
        status, data = client.request("POST", "/prompt", body, "application/json")
        assert status < 500, (status, data[:300], body[:300])
        if status == 400:
            error = json.loads(data)["error"]
            assert error["type"] and error["message"]

    check()
    assert client.count >= 1000
    assert_valid_prompt_still_runs(client)


@pytest.mark.slow
def test_hostile_requests_to_other_routes_never_500(server):
    client = Http(server.port)

    @settings(FUZZ, max_examples=1200)
    @given(
        route=st.sampled_from(POST_ROUTES),
        body=raw_bodies,
        content_type=st.sampled_from(
            ["application/json", "multipart/form-data; boundary=x", "text/plain", None]
        ),
        template=st.sampled_from(GET_TEMPLATES),
        query=queries,
        segment=segments,
    )
    def check(route, body, content_type, template, query, segment) -> None:
        status, data = client.request("POST", route, body, content_type)
        assert status < 500, (route, status, data[:300], body[:200])
        path = template.replace("{q}", query).replace("{s}", segment)
        status, data = client.request("GET", path)
        assert status < 500, (path, status, data[:300])

    check()
    assert client.count >= 2000
    assert_valid_prompt_still_runs(client)
