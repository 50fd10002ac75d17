"""TokenService: anonymous session tokens and single-stream tickets (JWT, HS256)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from sentiment.auth import (
    ISSUER,
    SESSION_AUDIENCE,
    TICKET_AUDIENCE,
    InvalidTokenError,
    TokenService,
)
from tests.unit.conftest import AUTH_SECRET, Clock

CONFIG_ID = "c" * 32
OTHER_CONFIG_ID = "d" * 32


def service(clock: Clock | None = None, secret: str = AUTH_SECRET) -> TokenService:
    kwargs = {"clock": clock} if clock else {}
    return TokenService(
        lambda: secret, session_ttl=timedelta(days=7), ticket_ttl=timedelta(minutes=5), **kwargs
    )


def unverified_claims(token: str, audience: str) -> dict[str, object]:
    """The claims of a token signed with AUTH_SECRET, whatever the fake clock said."""
    claims: dict[str, object] = jwt.decode(
        token,
        AUTH_SECRET,
        algorithms=["HS256"],
        audience=audience,
        options={"verify_exp": False, "verify_iat": False},
    )
    return claims


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_session_round_trip() -> None:
    """A session names a fresh user id; verifying it gives that id back."""
    tokens = service()
    session = tokens.issue_session()
    other = tokens.issue_session()

    assert tokens.verify_session(session.token) == session.user_id
    assert session.user_id != other.user_id
    assert len(session.user_id) == 32


def test_session_claims_and_expiry(clock: Clock) -> None:
    """HS256, issuer, session audience, ``sub`` = user id, ``exp`` = expires_at (whole seconds)."""
    session = service(clock).issue_session()

    assert jwt.get_unverified_header(session.token)["alg"] == "HS256"
    claims = unverified_claims(session.token, SESSION_AUDIENCE)
    assert claims["iss"] == ISSUER
    assert claims["sub"] == session.user_id
    assert session.expires_at == datetime(2026, 11, 28, 12, 30, tzinfo=UTC)
    assert claims["exp"] == int(session.expires_at.timestamp())


def test_expired_session_is_rejected(clock: Clock) -> None:
    """A token issued eight days ago with a seven-day lifetime has expired."""
    clock.now = datetime.now(UTC) - timedelta(days=8)
    old = service(clock).issue_session()
    with pytest.raises(InvalidTokenError, match=r"^token has expired$"):
        service().verify_session(old.token)


def test_expired_ticket_is_rejected(clock: Clock) -> None:
    clock.now = datetime.now(UTC) - timedelta(minutes=6)
    old = service(clock).issue_ticket("u" * 32, CONFIG_ID)
    with pytest.raises(InvalidTokenError, match=r"^token has expired$"):
        service().verify_ticket(old.ticket, CONFIG_ID)


def test_tampered_payload_is_rejected() -> None:
    """Swapping in another user id without re-signing breaks the signature."""
    tokens = service()
    header, payload, signature = tokens.issue_session().token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = ".".join([header, _b64({**claims, "sub": "someone-else"}), signature])
    with pytest.raises(InvalidTokenError, match=r"^token is invalid$"):
        tokens.verify_session(forged)


def test_tampered_signature_is_rejected() -> None:
    tokens = service()
    token = tokens.issue_session().token
    head, _, signature = token.rpartition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(InvalidTokenError, match=r"^token is invalid$"):
        tokens.verify_session(f"{head}.{flipped}")


def test_token_signed_with_another_secret_is_rejected() -> None:
    foreign = service(secret="some-other-secret-0123456789abcdef").issue_session()
    with pytest.raises(InvalidTokenError, match=r"^token is invalid$"):
        service().verify_session(foreign.token)


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a.b.c", "Bearer x"],
)
def test_garbage_is_rejected(token: str) -> None:
    with pytest.raises(InvalidTokenError, match=r"^token is invalid$"):
        service().verify_session(token)


def test_unsigned_token_is_rejected() -> None:
    """``alg: none`` is never accepted."""
    claims = {"iss": ISSUER, "aud": SESSION_AUDIENCE, "sub": "u", "exp": 4102444800}
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(InvalidTokenError):
        service().verify_session(unsigned)


@pytest.mark.parametrize("missing", ["exp", "sub", "iss"])
def test_required_claims(missing: str) -> None:
    claims = {"iss": ISSUER, "aud": SESSION_AUDIENCE, "sub": "u", "exp": 4102444800}
    del claims[missing]
    token = jwt.encode(claims, AUTH_SECRET, algorithm="HS256")
    with pytest.raises(InvalidTokenError):
        service().verify_session(token)


def test_wrong_issuer_is_rejected() -> None:
    claims = {"iss": "someone", "aud": SESSION_AUDIENCE, "sub": "u", "exp": 4102444800}
    with pytest.raises(InvalidTokenError):
        service().verify_session(jwt.encode(claims, AUTH_SECRET, algorithm="HS256"))


def test_ticket_round_trip() -> None:
    tokens = service()
    ticket = tokens.issue_ticket("u" * 32, CONFIG_ID)
    assert tokens.verify_ticket(ticket.ticket, CONFIG_ID) == "u" * 32


def test_ticket_expires_within_minutes(clock: Clock) -> None:
    ticket = service(clock).issue_ticket("u" * 32, CONFIG_ID)
    assert ticket.expires_at == clock.now + timedelta(minutes=5)
    claims = unverified_claims(ticket.ticket, TICKET_AUDIENCE)
    assert (claims["sub"], claims["cfg"]) == ("u" * 32, CONFIG_ID)


def test_ticket_is_not_a_session() -> None:
    """A stream ticket in an Authorization header is refused."""
    tokens = service()
    ticket = tokens.issue_ticket("u" * 32, CONFIG_ID)
    with pytest.raises(InvalidTokenError, match=r"^token is not valid for this use$"):
        tokens.verify_session(ticket.ticket)


def test_session_is_not_a_ticket() -> None:
    tokens = service()
    session = tokens.issue_session()
    with pytest.raises(InvalidTokenError, match=r"^token is not valid for this use$"):
        tokens.verify_ticket(session.token, CONFIG_ID)


def test_ticket_for_another_configuration_is_rejected() -> None:
    tokens = service()
    ticket = tokens.issue_ticket("u" * 32, CONFIG_ID)
    with pytest.raises(InvalidTokenError, match=r"^ticket was issued for another configuration$"):
        tokens.verify_ticket(ticket.ticket, OTHER_CONFIG_ID)


def test_issued_at_in_the_future_is_tolerated(clock: Clock) -> None:
    """A minting instance whose clock runs ahead still produces usable tokens (iat unchecked)."""
    clock.now = datetime.now(UTC) + timedelta(minutes=10)
    session = service(clock).issue_session()
    assert service().verify_session(session.token) == session.user_id


def test_secret_is_read_on_use() -> None:
    """A rotated secret invalidates tokens signed with the old one."""
    secrets = ["first-secret-0123456789abcdef0123"]
    tokens = TokenService(lambda: secrets[0], timedelta(days=1), timedelta(minutes=5))
    session = tokens.issue_session()
    secrets[0] = "second-secret-0123456789abcdef012"
    with pytest.raises(InvalidTokenError, match=r"^token is invalid$"):
        tokens.verify_session(session.token)
