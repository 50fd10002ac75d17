"""422 answers to hostile input: bounded in size, always encodable, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sentiment.validation_errors import MAX_ECHO_CHARS, MAX_REPORTED_ERRORS
from tests.unit.conftest import API_KEY
from tests.utils.factories import configuration_payload, item_payload

ITEMS = "/api/v2/items"
CONFIGS = "/api/v2/configurations"
KEY = {"X-API-Key": API_KEY}
JSON = {"Content-Type": "application/json"}
# Every echoed string is cut to MAX_ECHO_CHARS plus the ellipsis; a whole 422 stays this small.
MAX_422_BYTES = 8 * 1024


@pytest.fixture
def client(dashboard: TestClient) -> TestClient:
    """The app without re-raising server errors, so a 500 shows as a 500."""
    return TestClient(dashboard.app, raise_server_exceptions=False)


@pytest.fixture
def auth(client: TestClient) -> dict[str, str]:
    session = client.post("/api/v2/auth/anonymous").json()
    return {"Authorization": f"Bearer {session['token']}"}


def echoed_strings(value: Any) -> list[str]:
    """Every string in a 422's ``loc``, ``input`` and ``ctx``."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in echoed_strings(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *echoed_strings(v)]]
    return []


def assert_bounded(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text[:300]
    assert len(response.content) <= MAX_422_BYTES, len(response.content)
    errors: list[dict[str, Any]] = response.json()["detail"]
    assert 1 <= len(errors) <= MAX_REPORTED_ERRORS
    for error in errors:
        for key in ("loc", "input", "ctx"):
            for text in echoed_strings(error.get(key)):
                assert len(text) <= MAX_ECHO_CHARS + 1, (key, len(text))
    return errors


# --- the input echo is a short prefix ------------------------------------------------------


def test_a_160_kb_configuration_gets_a_short_answer(
    client: TestClient, auth: dict[str, str]
) -> None:
    """20,000 tickers (a 160 KB body): one ``too_long`` error whose input is a short prefix."""
    body = configuration_payload(tickers=[f"T{n:06d}" for n in range(20_000)])
    assert len(json.dumps(body)) > 160_000

    response = client.post(CONFIGS, json=body, headers=auth)

    [error] = assert_bounded(response)
    assert (error["loc"], error["type"]) == (["body", "tickers"], "too_long")
    assert error["msg"] == "List should have at most 5 items after validation, not 20000"
    assert error["input"] == json.dumps(body["tickers"])[:MAX_ECHO_CHARS] + "…"


def test_a_long_string_is_echoed_as_a_prefix(client: TestClient) -> None:
    response = client.post(ITEMS, json=item_payload(title="t" * 100_000), headers=KEY)

    [error] = assert_bounded(response)
    assert (error["loc"], error["type"]) == (["body", "single", "title"], "string_too_long")
    assert error["input"] == "t" * MAX_ECHO_CHARS + "…"


def test_short_inputs_are_echoed_whole(client: TestClient) -> None:
    response = client.post(ITEMS, json=item_payload(sentiment="bullish"), headers=KEY)

    [error] = assert_bounded(response)
    assert error["input"] == "bullish"


def test_thousands_of_errors_are_cut_to_the_first_few(client: TestClient) -> None:
    """20,000 unknown fields, each with a 100-character name: the first errors only."""
    extra = {f"{n:05d}" + "k" * 95: n for n in range(20_000)}

    response = client.post(ITEMS, json={**item_payload(), **extra}, headers=KEY)

    errors = assert_bounded(response)
    assert len(errors) == MAX_REPORTED_ERRORS
    assert {e["type"] for e in errors} == {"extra_forbidden"}
    assert errors[0]["loc"] == ["body", "single", "00000" + "k" * 95]


def test_a_long_key_is_cut_in_the_location(client: TestClient) -> None:
    response = client.post(ITEMS, json={**item_payload(), "k" * 10_000: 1}, headers=KEY)

    [error] = assert_bounded(response)
    assert error["loc"] == ["body", "single", "k" * MAX_ECHO_CHARS + "…"]


def test_a_long_metrics_filter_gets_a_short_answer(client: TestClient) -> None:
    """The unauthenticated ``?tickers=`` with 20,000 symbols: one short ``too_long``."""
    query = ",".join("A" * 20_000)  # 40 KB; commas as they are (httpx caps a URL at 64 KB)

    response = client.get(f"/api/v2/metrics?tickers={query}")

    [error] = assert_bounded(response)
    assert (error["loc"], error["type"]) == (["query", "tickers"], "too_long")


# --- text that is not Unicode -------------------------------------------------------------

LONE_SURROGATE = '"x\\ud800"'  # JSON's escape for a lone high surrogate: valid JSON, no text


def raw(body: dict[str, Any], field: str) -> str:
    """``body`` as JSON with ``field``'s value replaced by a lone surrogate escape."""
    return json.dumps({**body, field: "__HERE__"}).replace('"__HERE__"', LONE_SURROGATE)


def assert_not_unicode(response: Any, loc: list[Any]) -> None:
    [error] = assert_bounded(response)
    assert (error["loc"], error["type"]) == (loc, "string_unicode")
    assert error["msg"] == (
        "Input should be a valid string: text must be Unicode, and a lone surrogate "
        "(an unpaired \\ud800-\\udfff escape) is not"
    )
    assert error["input"] == "x\\ud800"


def test_lone_surrogate_in_a_configuration_name_is_422(
    client: TestClient, auth: dict[str, str]
) -> None:
    response = client.post(
        CONFIGS, content=raw(configuration_payload(), "name"), headers={**auth, **JSON}
    )
    assert_not_unicode(response, ["body", "name"])
    assert client.get(CONFIGS, headers=auth).json()["configurations"] == []


def test_lone_surrogate_in_a_configuration_patch_is_422(
    client: TestClient, auth: dict[str, str]
) -> None:
    created = client.post(CONFIGS, json=configuration_payload(), headers=auth).json()

    response = client.patch(
        f"{CONFIGS}/{created['config_id']}", content=raw({}, "name"), headers={**auth, **JSON}
    )

    assert_not_unicode(response, ["body", "name"])
    assert client.get(f"{CONFIGS}/{created['config_id']}", headers=auth).json() == created


@pytest.mark.parametrize("field", ["title", "source", "url", "item_id", "sentiment"])
def test_lone_surrogate_in_an_item_is_422(client: TestClient, field: str) -> None:
    response = client.post(ITEMS, content=raw(item_payload(), field), headers={**KEY, **JSON})

    [error] = assert_bounded(response)
    assert error["loc"] == ["body", "single", field]
    assert error["input"] == "x\\ud800"
    assert client.get(ITEMS).json()["items"] == []


def test_lone_surrogate_in_a_key_is_422(client: TestClient) -> None:
    """A field name that is not text: refused like a value, its echo escaped."""
    content = json.dumps(item_payload())[:-1] + ', "k\\udfff": 1}'
    response = client.post(ITEMS, content=content, headers={**KEY, **JSON})
    [error] = assert_bounded(response)
    assert (error["loc"], error["type"]) == (["body", "single"], "string_unicode")
    assert error["input"] == "k\\udfff"
