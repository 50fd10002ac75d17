"""/api/v2/configurations through the app: bearer auth, CRUD, ownership, limits, tickets."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sentiment.auth import InvalidTokenError, TokenService
from sentiment.services import Services
from tests.unit.conftest import AUTH_SECRET
from tests.utils.factories import configuration_payload

CONFIGS = "/api/v2/configurations"
MISSING_ID = "0" * 32


def login(client: TestClient) -> tuple[dict[str, str], str]:
    """A fresh anonymous user: its Authorization header and user id."""
    session = client.post("/api/v2/auth/anonymous").json()
    return {"Authorization": f"Bearer {session['token']}"}, session["user_id"]


def create(client: TestClient, auth: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(CONFIGS, json=configuration_payload(**overrides), headers=auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def listed(client: TestClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    body = client.get(CONFIGS, headers=auth).json()
    configurations: list[dict[str, Any]] = body["configurations"]
    return configurations


def every_route(config_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", CONFIGS, None),
        ("POST", CONFIGS, configuration_payload()),
        ("GET", f"{CONFIGS}/{config_id}", None),
        ("PATCH", f"{CONFIGS}/{config_id}", {"name": "x"}),
        ("DELETE", f"{CONFIGS}/{config_id}", None),
        ("POST", f"{CONFIGS}/{config_id}/stream-ticket", None),
    ]


def _expired_token() -> str:
    past = datetime.now(UTC) - timedelta(days=30)
    tokens = TokenService(
        lambda: AUTH_SECRET, timedelta(days=7), timedelta(minutes=5), clock=lambda: past
    )
    return tokens.issue_session().token


def _foreign_token() -> str:
    tokens = TokenService(
        lambda: "another-secret-0123456789abcdef01", timedelta(days=7), timedelta(minutes=5)
    )
    return tokens.issue_session().token


def test_every_route_needs_a_session(dashboard: TestClient, services: Services) -> None:
    """401 with a reason and ``WWW-Authenticate: Bearer`` on every configuration route; a token
    that can never work again says so the RFC 6750 way (``error="invalid_token"``), which is the
    one answer on which the page discards its session."""
    ticket = services.tokens.issue_ticket("u" * 32, MISSING_ID).ticket
    cases = [
        ({}, "missing bearer token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing bearer token"),
        ({"Authorization": "Bearer"}, "missing bearer token"),
        ({"Authorization": "Bearer garbage"}, "token is invalid"),
        ({"Authorization": f"Bearer {_foreign_token()}"}, "token is invalid"),
        ({"Authorization": f"Bearer {_expired_token()}"}, "token has expired"),
        ({"Authorization": f"Bearer {ticket}"}, "token is not valid for this use"),
    ]
    for headers, detail in cases:
        for method, path, body in every_route(MISSING_ID):
            response = dashboard.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (headers, method, path)
            assert response.json() == {"detail": detail}, (headers, method, path)
            expected = "Bearer"
            if detail != "missing bearer token":
                expected = f'Bearer error="invalid_token", error_description="{detail}"'
            assert response.headers["www-authenticate"] == expected


def test_create_get_and_list(dashboard: TestClient) -> None:
    auth, _ = login(dashboard)
    assert dashboard.get(CONFIGS, headers=auth).json() == {
        "configurations": [],
        "max_configurations": 5,
    }

    created = create(dashboard, auth, name="  Big tech ", tickers=["AAPL", "MSFT", "BRK.B"])

    assert re.fullmatch(r"[0-9a-f]{32}", created["config_id"])
    assert (created["name"], created["tickers"]) == ("Big tech", ["AAPL", "MSFT", "BRK.B"])
    assert created["created_at"] == created["updated_at"]
    assert datetime.fromisoformat(created["created_at"]).tzinfo is not None
    assert dashboard.get(f"{CONFIGS}/{created['config_id']}", headers=auth).json() == created
    second = create(dashboard, auth, name="Cars", tickers=["TSLA"])
    assert listed(dashboard, auth) == [created, second]


def test_patch_name_only_then_tickers_only(dashboard: TestClient) -> None:
    auth, _ = login(dashboard)
    created = create(dashboard, auth, name="Before", tickers=["AAPL"])
    path = f"{CONFIGS}/{created['config_id']}"

    renamed = dashboard.patch(path, json={"name": "After"}, headers=auth)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "After"
    assert renamed.json()["tickers"] == ["AAPL"]
    assert renamed.json()["created_at"] == created["created_at"]
    assert renamed.json()["updated_at"] >= created["updated_at"]

    retickered = dashboard.patch(path, json={"tickers": ["TSLA", "NVDA"]}, headers=auth).json()
    assert (retickered["name"], retickered["tickers"]) == ("After", ["TSLA", "NVDA"])
    assert dashboard.get(path, headers=auth).json() == retickered


PATCH_ERRORS = [
    ({}, ["body"], "value_error"),
    ({"name": None, "tickers": None}, ["body"], "value_error"),
    ({"name": "x" * 51}, ["body", "name"], "string_too_long"),
    ({"name": ""}, ["body", "name"], "string_too_short"),
    ({"tickers": ["A", "B", "C", "D", "E", "F"]}, ["body", "tickers"], "too_long"),
    ({"tickers": ["AAPL", "AAPL"]}, ["body", "tickers"], "value_error"),
    ({"tickers": []}, ["body", "tickers"], "too_short"),
    ({"owner": "me"}, ["body", "owner"], "extra_forbidden"),
]


def test_bad_patches_are_422_and_change_nothing(dashboard: TestClient) -> None:
    """Empty patches, long names, six or duplicate tickers: 422 at the field, no change."""
    auth, _ = login(dashboard)
    created = create(dashboard, auth)
    for body, loc, error_type in PATCH_ERRORS:
        response = dashboard.patch(f"{CONFIGS}/{created['config_id']}", json=body, headers=auth)

        assert response.status_code == 422, body
        errors = [(e["loc"], e["type"]) for e in response.json()["detail"]]
        assert errors == [(loc, error_type)], body
        assert listed(dashboard, auth) == [created], body


def test_empty_patch_says_what_is_missing(dashboard: TestClient) -> None:
    auth, _ = login(dashboard)
    created = create(dashboard, auth)
    response = dashboard.patch(f"{CONFIGS}/{created['config_id']}", json={}, headers=auth)
    assert response.json()["detail"][0]["msg"] == "Value error, give at least one of name, tickers"


CREATE_ERRORS = [
    (configuration_payload(name="x" * 51), ["body", "name"], "string_too_long"),
    (configuration_payload(name="   "), ["body", "name"], "string_too_short"),
    (
        configuration_payload(tickers=["A", "B", "C", "D", "E", "F"]),
        ["body", "tickers"],
        "too_long",
    ),
    (configuration_payload(tickers=["AAPL", "MSFT", "AAPL"]), ["body", "tickers"], "value_error"),
    (configuration_payload(tickers=[]), ["body", "tickers"], "too_short"),
    (configuration_payload(tickers=["aapl"]), ["body", "tickers", 0], "string_pattern_mismatch"),
    ({"name": "no tickers"}, ["body", "tickers"], "missing"),
    ({"tickers": ["AAPL"]}, ["body", "name"], "missing"),
    (configuration_payload(config_id=MISSING_ID), ["body", "config_id"], "extra_forbidden"),
]


def test_bad_creates_are_422_and_write_nothing(dashboard: TestClient) -> None:
    """Names over 50 characters, 6 tickers, duplicates...: 422 at the field, nothing stored."""
    auth, _ = login(dashboard)
    existing = create(dashboard, auth)
    for body, loc, error_type in CREATE_ERRORS:
        response = dashboard.post(CONFIGS, json=body, headers=auth)
        assert response.status_code == 422, body
        errors = [(e["loc"], e["type"]) for e in response.json()["detail"]]
        assert errors == [(loc, error_type)], body
        assert listed(dashboard, auth) == [existing], body


def test_delete_then_404_everywhere(dashboard: TestClient) -> None:
    auth, _ = login(dashboard)
    keep = create(dashboard, auth, name="keep")
    gone = create(dashboard, auth, name="gone")

    response = dashboard.delete(f"{CONFIGS}/{gone['config_id']}", headers=auth)

    assert response.status_code == 204
    assert response.content == b""
    assert listed(dashboard, auth) == [keep]
    for method, path, body in every_route(gone["config_id"])[2:]:
        response = dashboard.request(method, path, json=body, headers=auth)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "configuration not found"}


def test_another_users_configuration_is_404_never_403(dashboard: TestClient) -> None:
    """Bob cannot see, change, delete or stream Alice's configuration, or learn it exists."""
    alice, _ = login(dashboard)
    bob, _ = login(dashboard)
    owned = create(dashboard, alice)

    for method, path, body in every_route(owned["config_id"])[2:]:
        response = dashboard.request(method, path, json=body, headers=bob)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "configuration not found"}

    assert listed(dashboard, bob) == []
    assert listed(dashboard, alice) == [owned]


def test_unknown_configuration_is_404(dashboard: TestClient) -> None:
    auth, _ = login(dashboard)
    for method, path, body in every_route(MISSING_ID)[2:]:
        response = dashboard.request(method, path, json=body, headers=auth)
        assert (response.status_code, response.json()) == (
            404,
            {"detail": "configuration not found"},
        ), (method, path)


def test_malformed_config_id_is_422(dashboard: TestClient) -> None:
    """Ids are 32 lowercase hex digits; anything else is a 422 on the path parameter."""
    auth, _ = login(dashboard)
    for config_id in ("not-hex", "A" * 32, "0" * 31, "0" * 33, "%23count"):
        for method, path, body in every_route(config_id)[2:]:
            response = dashboard.request(method, path, json=body, headers=auth)
            assert response.status_code == 422, (method, path)
            assert [e["loc"] for e in response.json()["detail"]] == [["path", "config_id"]]


def test_sixth_configuration_is_409_until_one_is_deleted(dashboard: TestClient) -> None:
    auth, _ = login(dashboard)
    five = [create(dashboard, auth, name=f"list {n}") for n in range(5)]

    response = dashboard.post(CONFIGS, json=configuration_payload(name="sixth"), headers=auth)

    assert response.status_code == 409
    assert response.json() == {"detail": "at most 5 configurations per user; delete one first"}
    assert listed(dashboard, auth) == five

    assert dashboard.delete(f"{CONFIGS}/{five[0]['config_id']}", headers=auth).status_code == 204
    replacement = create(dashboard, auth, name="replacement")
    assert listed(dashboard, auth) == [*five[1:], replacement]
    other, _ = login(dashboard)
    assert create(dashboard, other)["name"] == "Big tech"


def test_stream_ticket_is_for_that_configuration(dashboard: TestClient, services: Services) -> None:
    auth, user_id = login(dashboard)
    first = create(dashboard, auth, name="first")
    second = create(dashboard, auth, name="second")

    response = dashboard.post(f"{CONFIGS}/{first['config_id']}/stream-ticket", headers=auth)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ticket", "expires_at"}
    assert services.tokens.verify_ticket(body["ticket"], first["config_id"]) == user_id
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timedelta(0) < expires_at - datetime.now(UTC) <= timedelta(minutes=5)
    with pytest.raises(InvalidTokenError, match="another configuration"):
        services.tokens.verify_ticket(body["ticket"], second["config_id"])
    with pytest.raises(InvalidTokenError, match="not valid for this use"):
        services.tokens.verify_session(body["ticket"])
