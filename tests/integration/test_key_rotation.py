"""Rotating the signing secret in a running stack logs nobody out.

The shared local stack signs with the development secret. Both apps are then started again (new
processes, same DynamoDB), as a deploy of the rotation does: AUTH_SECRET is a new secret and
AUTH_SECRET_PREVIOUS the old one. A session made before the rotation still reads its watch
lists and opens its configuration stream, by header and by a ticket the rotated dashboard
mints; new tokens are signed with the new key; a token signed with a key neither app knows is a
401 that says the token is invalid, the one answer on which the page drops its session.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from devstack.stack import DEV_AUTH_SECRET
from sentiment.auth import ISSUER, SESSION_AUDIENCE, key_id
from tests.utils.processes import RunningStack, restarted_apps
from tests.utils.sse import open_stream

pytestmark = pytest.mark.integration

NEW_SECRET = "rotated-auth-secret-0123456789abcdef0123456789"
UNKNOWN_SECRET = "nobody-knows-this-secret-0123456789abcdef0123"
INVALID = 'Bearer error="invalid_token", error_description="token is invalid"'


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_with(secret: str, user_id: str) -> str:
    """A well-formed session token for ``user_id``, signed with ``secret`` and naming its kid."""
    claims = {
        "iss": ISSUER,
        "aud": SESSION_AUDIENCE,
        "sub": user_id,
        "exp": int((datetime.now(UTC) + timedelta(hours=1)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": key_id(secret)})


async def test_sessions_survive_a_rotation_and_unknown_keys_are_refused(
    stack: RunningStack, sse_client: httpx.AsyncClient
) -> None:
    http = sse_client
    session = (await http.post(f"{stack.dashboard_url}/api/v2/auth/anonymous")).json()
    assert jwt.get_unverified_header(session["token"])["kid"] == key_id(DEV_AUTH_SECRET)
    auth = bearer(session["token"])
    created = await http.post(
        f"{stack.dashboard_url}/api/v2/configurations",
        json={"name": "Before", "tickers": ["ROTA"]},
        headers=auth,
    )
    config_id = created.json()["config_id"]

    rotation = {"AUTH_SECRET": NEW_SECRET, "AUTH_SECRET_PREVIOUS": DEV_AUTH_SECRET}
    with restarted_apps(stack, rotation) as apps:
        configurations = f"{apps.dashboard_url}/api/v2/configurations"
        listed = await http.get(configurations, headers=auth)
        assert listed.status_code == 200, listed.text
        assert [
            (c["config_id"], c["name"], c["tickers"]) for c in listed.json()["configurations"]
        ] == [(config_id, "Before", ["ROTA"])]

        stream = f"{apps.sse_url}/api/v2/configurations/{config_id}/stream"
        async with open_stream(http, stream, auth) as reader:
            metrics = await reader.next_of("metrics")
        assert metrics.data["tickers"] == ["ROTA"]

        minted = await http.post(f"{configurations}/{config_id}/stream-ticket", headers=auth)
        assert minted.status_code == 200, minted.text
        ticket = minted.json()["ticket"]
        assert jwt.get_unverified_header(ticket)["kid"] == key_id(NEW_SECRET)
        async with open_stream(http, f"{stream}?ticket={ticket}") as reader:
            metrics = await reader.next_of("metrics")
        assert metrics.data["tickers"] == ["ROTA"]

        fresh = (await http.post(f"{apps.dashboard_url}/api/v2/auth/anonymous")).json()
        assert jwt.get_unverified_header(fresh["token"])["kid"] == key_id(NEW_SECRET)
        assert (await http.get(configurations, headers=bearer(fresh["token"]))).json() == {
            "configurations": [],
            "max_configurations": 5,
        }

        forged = bearer(signed_with(UNKNOWN_SECRET, session["user_id"]))
        for response in (
            await http.get(configurations, headers=forged),
            await http.get(stream, headers=forged),
        ):
            assert response.status_code == 401
            assert response.json() == {"detail": "token is invalid"}
            assert response.headers["www-authenticate"] == INVALID
