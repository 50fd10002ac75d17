"""GET/POST /api/v2/items through the app: ingest, auth, validation, listing and cursors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sentiment.positions import Position
from sentiment.services import Services
from sentiment.store import items as items_module
from tests.unit.conftest import API_KEY
from tests.utils.factories import item_in, item_payload

ITEMS = "/api/v2/items"
KEY = {"X-API-Key": API_KEY}


def snapshot(client: TestClient) -> tuple[int, list[str], int]:
    """What a reader can see: metrics total, newest listed item, and the stored row count.

    Any write would show in all three: a new item is the newest, and counts in the totals.
    """
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    total = client.get("/api/v2/metrics").json()["total"]
    newest = [i["item_id"] for i in client.get(ITEMS, params={"limit": 1}).json()["items"]]
    table = services.dynamodb.Table(services.settings.ITEMS_TABLE)
    return total, newest, table.scan(Select="COUNT")["Count"]


Snapshot = tuple[int, list[str], int]


@pytest.fixture
def seeded(dashboard: TestClient) -> Snapshot:
    """One stored item, so "nothing changed" is checked against a non-empty state."""
    assert dashboard.post(ITEMS, json=item_payload(item_id="seed"), headers=KEY).status_code == 201
    state = snapshot(dashboard)
    assert state == (1, ["seed"], 1)
    return state


# --- ingest: success -----------------------------------------------------------------------


def test_single_item_is_created_and_listed(dashboard: TestClient) -> None:
    payload = item_payload(
        item_id="one",
        tickers=["AAPL", "BRK.B"],
        sentiment="negative",
        score=-0.4,
        published_at="2026-11-21T12:00:00+02:00",
    )

    response = dashboard.post(ITEMS, json=payload, headers=KEY)

    assert response.status_code == 201
    assert response.json() == {"created": ["one"], "duplicates": []}
    [listed] = dashboard.get(ITEMS).json()["items"]
    assert {k: listed[k] for k in payload} == payload
    ingested_at = datetime.fromisoformat(listed["ingested_at"])
    assert ingested_at.tzinfo is not None
    assert listed["ingested_at"].endswith("Z")
    metrics = dashboard.get("/api/v2/metrics").json()
    assert (metrics["total"], metrics["negative"], metrics["by_ticker"]) == (
        1,
        1,
        {"AAPL": 1, "BRK.B": 1},
    )


def test_repeated_item_is_a_duplicate_with_200(dashboard: TestClient) -> None:
    payload = item_payload(item_id="again")
    assert dashboard.post(ITEMS, json=payload, headers=KEY).status_code == 201

    response = dashboard.post(ITEMS, json={**payload, "title": "changed"}, headers=KEY)

    assert response.status_code == 200
    assert response.json() == {"created": [], "duplicates": ["again"]}
    assert snapshot(dashboard) == (1, ["again"], 1)
    assert dashboard.get(ITEMS).json()["items"][0]["title"] == payload["title"]


def test_batch_reports_created_and_duplicates(dashboard: TestClient) -> None:
    dashboard.post(ITEMS, json=item_payload(item_id="b-old"), headers=KEY)
    batch = {"items": [item_payload(item_id=i) for i in ("b-1", "b-old", "b-2")]}

    response = dashboard.post(ITEMS, json=batch, headers=KEY)

    assert response.status_code == 201
    assert response.json() == {"created": ["b-1", "b-2"], "duplicates": ["b-old"]}
    assert snapshot(dashboard)[::2] == (3, 3)
    listed = [i["item_id"] for i in dashboard.get(ITEMS).json()["items"]]
    assert sorted(listed) == ["b-1", "b-2", "b-old"]


def test_all_duplicate_batch_is_200(dashboard: TestClient) -> None:
    batch = {"items": [item_payload(item_id=i) for i in ("d-1", "d-2")]}
    assert dashboard.post(ITEMS, json=batch, headers=KEY).status_code == 201

    response = dashboard.post(ITEMS, json=batch, headers=KEY)

    assert response.status_code == 200
    assert response.json() == {"created": [], "duplicates": ["d-1", "d-2"]}
    assert snapshot(dashboard)[0] == 2


def test_boundary_values_are_accepted(dashboard: TestClient) -> None:
    """25 items at every inclusive edge of the contract are all created."""
    edges = [
        item_payload(item_id="i" * 64),
        item_payload(title="t" * 300),
        item_payload(tickers=[f"T{n}" for n in range(10)]),
        item_payload(tickers=["A", "ABCDEFGHIJ", "BRK.B", "BF-B"]),
        item_payload(score=-1, confidence=0),
        item_payload(score=1, confidence=1),
        item_payload(item_id="a.b:c_d-E9"),
        item_payload(url="http://x.example/" + "p" * 2000),
        item_payload(published_at="2026-11-21T10:00:00.123456-05:00"),
    ]
    edges += [item_payload() for _ in range(25 - len(edges))]

    response = dashboard.post(ITEMS, json={"items": edges}, headers=KEY)

    assert response.status_code == 201, response.text
    assert response.json()["created"] == [e["item_id"] for e in edges]
    assert snapshot(dashboard)[0] == 25


# --- ingest: auth ----------------------------------------------------------------------------


def test_ingest_needs_the_api_key(dashboard: TestClient, seeded: Snapshot) -> None:
    """401 with a reason for a missing or wrong key; nothing stored."""
    for headers, detail in [
        ({}, "missing X-API-Key header"),
        ({"X-API-Key": ""}, "missing X-API-Key header"),
        ({"Authorization": f"Bearer {API_KEY}"}, "missing X-API-Key header"),
        ({"X-API-Key": "wrong"}, "invalid API key"),
        ({"X-API-Key": API_KEY.upper()}, "invalid API key"),
        ({"X-API-Key": API_KEY + "x"}, "invalid API key"),
    ]:
        response = dashboard.post(ITEMS, json=item_payload(item_id="nope"), headers=headers)

        assert response.status_code == 401, headers
        assert response.json() == {"detail": detail}, headers
        assert snapshot(dashboard) == seeded, headers


def test_auth_is_checked_before_validation(dashboard: TestClient) -> None:
    """An anonymous caller learns nothing about the body schema."""
    response = dashboard.post(ITEMS, json={"bogus": True})
    assert response.status_code == 401
    assert response.json() == {"detail": "missing X-API-Key header"}


# --- ingest: validation (never a partial write) ----------------------------------------------


def _without(field: str) -> Callable[[], Any]:
    return lambda: {k: v for k, v in item_payload().items() if k != field}


def _single(**overrides: Any) -> Callable[[], Any]:
    return lambda: item_payload(**overrides)


def _batch(*items: dict[str, Any]) -> Callable[[], Any]:
    return lambda: {"items": list(items)}


BadBody = tuple[Callable[[], Any], list[Any], str]  # body factory, loc, error type

BAD_BODIES: dict[str, list[BadBody]] = {
    "missing-fields": [
        (_without(field), ["body", "single", field], "missing")
        for field in (
            "item_id",
            "source",
            "title",
            "url",
            "tickers",
            "sentiment",
            "score",
            "confidence",
            "published_at",
        )
    ],
    "text-fields": [
        (_single(extra="x"), ["body", "single", "extra"], "extra_forbidden"),
        (
            _single(ingested_at="2020-01-01T00:00:00Z"),
            ["body", "single", "ingested_at"],
            "extra_forbidden",
        ),  # the server's clock decides ingested_at
        (_single(title="t" * 301), ["body", "single", "title"], "string_too_long"),
        (_single(title="   "), ["body", "single", "title"], "string_too_short"),
        (_single(source=""), ["body", "single", "source"], "string_too_short"),
        (
            _single(url="ftp://files.example.com/x"),
            ["body", "single", "url"],
            "string_pattern_mismatch",
        ),
        (_single(url="not a url"), ["body", "single", "url"], "string_pattern_mismatch"),
        (_single(item_id="has space"), ["body", "single", "item_id"], "string_pattern_mismatch"),
        (_single(item_id="i" * 65), ["body", "single", "item_id"], "string_pattern_mismatch"),
        (_single(item_id="a#b"), ["body", "single", "item_id"], "string_pattern_mismatch"),
    ],
    "tickers": [
        (_single(tickers=[]), ["body", "single", "tickers"], "too_short"),
        (_single(tickers=[f"T{n}" for n in range(11)]), ["body", "single", "tickers"], "too_long"),
        (
            _single(tickers=["AAPL", "msft"]),
            ["body", "single", "tickers", 1],
            "string_pattern_mismatch",
        ),
        (
            _single(tickers=["ABCDEFGHIJK"]),
            ["body", "single", "tickers", 0],
            "string_pattern_mismatch",
        ),
        (_single(tickers=["AAPL", "AAPL"]), ["body", "single", "tickers"], "value_error"),
        (_single(tickers="AAPL"), ["body", "single", "tickers"], "list_type"),
    ],
    "numbers": [
        (_single(score=1.5), ["body", "single", "score"], "less_than_equal"),
        (_single(score=-1.5), ["body", "single", "score"], "greater_than_equal"),
        (_single(score="NaN"), ["body", "single", "score"], "finite_number"),
        (_single(score="high"), ["body", "single", "score"], "float_parsing"),
        (_single(confidence=-0.1), ["body", "single", "confidence"], "greater_than_equal"),
        (_single(confidence=1.1), ["body", "single", "confidence"], "less_than_equal"),
    ],
    "sentiment-and-dates": [
        (_single(sentiment="bullish"), ["body", "single", "sentiment"], "literal_error"),
        (
            _single(published_at="2026-11-21T10:00:00"),
            ["body", "single", "published_at"],
            "timezone_aware",
        ),
        (
            _single(published_at="21/11/2026"),
            ["body", "single", "published_at"],
            "datetime_from_date_parsing",
        ),
    ],
    "batch": [
        (
            lambda: {"items": [item_payload() for _ in range(26)]},
            ["body", "batch", "items"],
            "too_long",
        ),
        (_batch(), ["body", "batch", "items"], "too_short"),
        (
            _batch(item_payload(item_id="twin"), item_payload(item_id="twin")),
            ["body", "batch"],
            "value_error",
        ),
        (
            _batch(item_payload(), item_payload(), item_payload(score=2)),
            ["body", "batch", "items", 2, "score"],
            "less_than_equal",
        ),
        (
            lambda: {"items": [item_payload()], "extra": 1},
            ["body", "batch", "extra"],
            "extra_forbidden",
        ),
    ],
    "body-shape": [
        (lambda: [item_payload()], ["body", "single"], "model_attributes_type"),
        (lambda: "item", ["body", "single"], "model_attributes_type"),
    ],
}


@pytest.mark.parametrize("cases", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_invalid_bodies_are_422_and_write_nothing(
    dashboard: TestClient, seeded: Snapshot, cases: list[BadBody]
) -> None:
    """Each bad body names exactly the offending location; nothing at all is stored."""
    for make_body, loc, error_type in cases:
        body = make_body()
        response = dashboard.post(ITEMS, json=body, headers=KEY)

        assert response.status_code == 422, (loc, response.text)
        errors = [(e["loc"], e["type"]) for e in response.json()["detail"]]
        assert errors == [(loc, error_type)], body
        assert snapshot(dashboard) == seeded, loc


def test_duplicate_ids_in_a_batch_are_named(dashboard: TestClient) -> None:
    body = {"items": [item_payload(item_id=i) for i in ("x", "y", "x", "z", "y")]}
    response = dashboard.post(ITEMS, json=body, headers=KEY)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "Value error, duplicate values: x, y"


def test_malformed_json_is_422(dashboard: TestClient, seeded: Snapshot) -> None:
    """Bodies that are not JSON at all: a 422 located in the body, nothing stored."""
    for content in ('{"item_id": "broken"', "{bad json}", "", "null"):
        response = dashboard.post(
            ITEMS, content=content, headers={**KEY, "Content-Type": "application/json"}
        )
        assert response.status_code == 422, content
        [error] = response.json()["detail"]
        assert error["loc"][0] == "body", content
        assert snapshot(dashboard) == seeded, content
    response = dashboard.post(
        ITEMS, content="{bad json}", headers={**KEY, "Content-Type": "application/json"}
    )
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_bare_nan_number_is_422(dashboard: TestClient, seeded: Snapshot) -> None:
    """``"score": NaN`` (or Infinity) is not a number the contract accepts: 422, no write."""
    client = TestClient(dashboard.app, raise_server_exceptions=False)
    for literal in ("NaN", "Infinity", "-Infinity"):
        content = json.dumps(item_payload(item_id="nan", score=0.5)).replace("0.5", literal)

        response = client.post(
            ITEMS, content=content, headers={**KEY, "Content-Type": "application/json"}
        )

        assert response.status_code == 422, literal
        assert response.json()["detail"][0]["loc"] == ["body", "single", "score"]
        assert snapshot(dashboard) == seeded


# --- numbers: stored at the documented precision, never a 5xx ----------------------------

NUMBERS = [
    # (field, sent, listed): found by fuzzing; a 500 and a 503 before scores were rounded
    ("confidence", 5.516037776304909e-302, 0.0),
    ("score", -5.461340542820139e-136, 0.0),
    ("score", 1e-40, 0.0),  # inside DynamoDB's range, but 0.5 + 1e-40 has 41 digits
    ("score", 5e-324, 0.0),  # the smallest float
    ("score", -0.0, 0.0),
    ("score", 0.12345678, 0.123457),
    ("score", -0.9999996, -1.0),
    ("confidence", 0.0000004, 0.0),
    ("confidence", 0.0000006, 0.000001),
    ("confidence", 0.75, 0.75),
]


@pytest.mark.parametrize(("field", "sent", "listed"), NUMBERS)
def test_scores_are_stored_at_six_decimals(
    dashboard: TestClient, field: str, sent: float, listed: float
) -> None:
    """Every number in the contract's range is stored, rounded to SCORE_DECIMALS places
    (smaller magnitudes are 0), and listed back as stored; the counters stay exact."""
    client = TestClient(dashboard.app, raise_server_exceptions=False)
    normal = item_payload(item_id="normal", score=0.5, confidence=0.5)
    assert client.post(ITEMS, json=normal, headers=KEY).status_code == 201

    response = client.post(ITEMS, json=item_payload(item_id="edge", **{field: sent}), headers=KEY)

    assert (response.status_code, response.json()) == (
        201,
        {"created": ["edge"], "duplicates": []},
    )
    [edge, _] = client.get(ITEMS).json()["items"]
    assert edge[field] == listed
    assert str(edge[field]) == str(listed)  # not -0.0
    score = edge["score"]
    assert client.get("/api/v2/metrics").json()["average_score"] == round((0.5 + score) / 2, 4)


def test_a_number_no_float_can_hold_is_422(dashboard: TestClient) -> None:
    for field in ("score", "confidence"):
        response = dashboard.post(ITEMS, json=item_payload(**{field: 10**400}), headers=KEY)
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert (error["loc"], error["type"]) == (["body", "single", field], "float_type")


# --- listing -----------------------------------------------------------------------------


def test_empty_listing(dashboard: TestClient) -> None:
    assert dashboard.get(ITEMS).json() == {"items": [], "next_cursor": None}


@pytest.fixture
def history(
    dashboard: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, Any]]:
    """Eleven items 40 minutes apart (over several hour buckets), newest first, as listed.

    Listings look back 12 hours here instead of 168, so a last page sweeps 13 hour buckets
    rather than 169; paging does not depend on it (the store tests cover the real lookback).
    """
    monkeypatch.setattr(items_module, "LISTING_LOOKBACK", timedelta(hours=12))
    now = datetime.now(UTC)
    shapes = [(["AAPL"], "positive"), (["MSFT", "AAPL"], "negative"), (["TSLA"], "neutral")]
    for n in range(11):
        tickers, sentiment = shapes[n % 3]
        item = item_in(item_id=f"h-{n:02d}", tickers=tickers, sentiment=sentiment)
        assert services.items.ingest(item, ingested_at=now - timedelta(minutes=40 * n))
    body = dashboard.get(ITEMS).json()  # the default page size, 20, holds them all
    assert [i["item_id"] for i in body["items"]] == [f"h-{n:02d}" for n in range(11)]
    assert body["next_cursor"] is None
    listed: list[dict[str, Any]] = body["items"]
    return listed


def walk_pages(client: TestClient, **params: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(ITEMS, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([i["item_id"] for i in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(cursor) <= 128
        assert cursor.isascii()
        assert len(pages) < 50


def test_pages_walk_all_items_newest_first(
    dashboard: TestClient, history: list[dict[str, Any]]
) -> None:
    """limit=4 over 11 items: 4, 4, 3, no gaps, no repeats, null cursor at the end."""
    pages = walk_pages(dashboard, limit=4)
    assert pages == [
        ["h-00", "h-01", "h-02", "h-03"],
        ["h-04", "h-05", "h-06", "h-07"],
        ["h-08", "h-09", "h-10"],
    ]


def test_cursor_is_the_position_of_the_last_item(
    dashboard: TestClient, history: list[dict[str, Any]]
) -> None:
    """next_cursor encodes (ingested_at, item_id) of the page's last item."""
    body = dashboard.get(ITEMS, params={"limit": 3}).json()
    last = body["items"][-1]
    position = Position.decode(body["next_cursor"])
    assert position.item_id == last["item_id"] == "h-02"
    assert position.ingested_at == datetime.fromisoformat(last["ingested_at"])
    after = dashboard.get(ITEMS, params={"limit": 2, "cursor": body["next_cursor"]}).json()
    assert [i["item_id"] for i in after["items"]] == ["h-03", "h-04"]


FILTERED = [
    ({"ticker": "AAPL"}, ["h-00", "h-01", "h-03", "h-04", "h-06", "h-07", "h-09", "h-10"]),
    ({"sentiment": "neutral"}, ["h-02", "h-05", "h-08"]),
    ({"ticker": "AAPL", "sentiment": "negative"}, ["h-01", "h-04", "h-07", "h-10"]),
]


def test_filters_with_pagination(dashboard: TestClient, history: list[dict[str, Any]]) -> None:
    """``ticker`` and ``sentiment`` narrow the listing; pages stay full and newest-first."""
    for params, expected in FILTERED:
        pages = walk_pages(dashboard, limit=3, **params)
        assert [i for page in pages for i in page] == expected, params
        assert all(len(page) == 3 for page in pages[:-1]), params


BAD_QUERIES = {
    "cursor": [
        ("cursor=!!!", "value_error"),
        ("cursor=", "value_error"),
        ("cursor=" + "A" * 129, "value_error"),
        ("cursor=bm90LWEtcG9zaXRpb24", "value_error"),  # base64 of "not-a-position"
    ],
    "limit": [
        ("limit=0", "greater_than_equal"),
        ("limit=101", "less_than_equal"),
        ("limit=ten", "int_parsing"),
    ],
    "ticker": [
        ("ticker=aapl", "string_pattern_mismatch"),
        ("ticker=A%20B", "string_pattern_mismatch"),
    ],
    "sentiment": [("sentiment=bullish", "literal_error")],
}


@pytest.mark.parametrize(("param", "cases"), BAD_QUERIES.items(), ids=BAD_QUERIES.keys())
def test_bad_listing_queries_are_422(
    dashboard: TestClient, param: str, cases: list[tuple[str, str]]
) -> None:
    for query, error_type in cases:
        response = dashboard.get(f"{ITEMS}?{query}")
        assert response.status_code == 422, query
        errors = [(e["loc"], e["type"]) for e in response.json()["detail"]]
        assert errors == [(["query", param], error_type)], query


class QueryBudgetExceeded(Exception):
    pass


def test_future_cursor_costs_no_more_than_a_normal_listing(
    dashboard: TestClient, services: Services
) -> None:
    """A crafted cursor must not buy more DynamoDB reads than the 7-day listing window holds."""
    budget = 169 + 2  # every hour bucket of the lookback, plus clock skew
    queries: list[int] = []

    def count(**_: Any) -> None:
        queries.append(1)
        if len(queries) > budget:
            raise QueryBudgetExceeded(len(queries))

    services.dynamodb.meta.client.meta.events.register("before-call.dynamodb.Query", count)
    client = TestClient(dashboard.app, raise_server_exceptions=False)
    cursor = Position(datetime.now(UTC) + timedelta(days=30), "x").encode()

    response = client.get(ITEMS, params={"cursor": cursor})

    assert len(queries) <= budget, "the listing kept querying past the lookback's buckets"
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_malformed_cursor_message(dashboard: TestClient) -> None:
    response = dashboard.get(ITEMS, params={"cursor": "%%%"})
    [error] = response.json()["detail"]
    assert error["msg"] == "position token must be 1-128 URL-safe base64 characters"
    assert error["input"] == "%%%"


def test_a_filtered_listing_reads_a_bounded_number_of_items(
    dashboard: TestClient, services: Services
) -> None:
    """``?ticker=...&limit=1`` over 1,500 fresh items: each request reads at most
    LISTING_READ_BUDGET of them, and says where to go on (an empty page with a cursor)."""
    # The previous hour, so the pages do not depend on the minute the test runs at.
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    rows = [
        (
            item_in(item_id=f"busy-{n:04d}", tickers=["RARE"] if n == 0 else ["AAPL"]),
            start + timedelta(seconds=2 * n),
        )
        for n in range(1500)
    ]
    services.items.load(rows)
    scanned: list[int] = []
    services.dynamodb.meta.client.meta.events.register(
        "after-call.dynamodb.Query", lambda parsed, **_: scanned.append(parsed["ScannedCount"])
    )

    nothing = dashboard.get(ITEMS, params={"ticker": "NOPE", "limit": 1}).json()
    assert (nothing, sum(scanned)) == ({"items": [], "next_cursor": None}, 0)

    pages, cursor = [], None
    while True:
        scanned.clear()
        params = {"ticker": "RARE", "limit": 1, **({"cursor": cursor} if cursor else {})}
        body = dashboard.get(ITEMS, params=params).json()
        assert sum(scanned) <= items_module.LISTING_READ_BUDGET
        pages.append([i["item_id"] for i in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None or len(pages) > 10:
            break
    # 500 rows a request, over the hour's 4 index keys: each request gets a little less than
    # 500 rows further (what a key read past where the next page starts is read again), so
    # three pages of misses (with cursors), the match, then the end.
    assert pages == [[], [], [], ["busy-0000"], []]


def test_a_cursor_at_an_hour_start_continues_below_that_hour(
    dashboard: TestClient, services: Services
) -> None:
    """When the read budget runs out exactly at the end of an hour, the cursor is that hour's
    start (no item id): the API takes it back and lists what is older."""
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    services.items.load(
        [
            (item_in(item_id="at-start"), hour),
            (item_in(item_id="before"), hour - timedelta(microseconds=1)),
        ]
    )
    cursor = Position.at(hour).encode()

    body = dashboard.get(ITEMS, params={"cursor": cursor}).json()

    assert ([i["item_id"] for i in body["items"]], body["next_cursor"]) == (["before"], None)
