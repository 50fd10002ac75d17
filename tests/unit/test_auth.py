"""TokenService: anonymous session tokens and single-stream tickets (JWT, HS256)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from sentiment.auth import (
    ISSUER,
    SESSION_AUDIENCE,
    TICKET_AUDIENCE,
    InvalidTokenError,
    TokenService,
    key_id,
)
from sentiment.settings import Settings
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


# --- key rotation -----------------------------------------------------------------------------

OLD_SECRET = "old-secret-0123456789abcdef0123456789"
NEW_SECRET = "new-secret-0123456789abcdef0123456789"


def rotated(
    previous: str | None = OLD_SECRET, refresh: Callable[[], bool] | None = None
) -> TokenService:
    """Signing with NEW_SECRET, still accepting ``previous``."""
    return TokenService(
        lambda: NEW_SECRET,
        timedelta(days=7),
        timedelta(minutes=5),
        previous=lambda: previous,
        refresh=refresh or (lambda: False),
    )


def test_tokens_name_their_signing_key() -> None:
    session = service(secret=OLD_SECRET).issue_session()
    ticket = service(secret=OLD_SECRET).issue_ticket("u" * 32, CONFIG_ID)
    for token in (session.token, ticket.ticket):
        header = jwt.get_unverified_header(token)
        assert header == {"alg": "HS256", "typ": "JWT", "kid": key_id(OLD_SECRET)}
    # A fingerprint, not the secret or a plain hash of it.
    assert OLD_SECRET not in key_id(OLD_SECRET)
    assert key_id(OLD_SECRET) != key_id(NEW_SECRET)
    assert re.fullmatch(r"[0-9a-f]{16}", key_id(OLD_SECRET))


def test_a_session_from_before_the_rotation_stays_valid() -> None:
    before = service(secret=OLD_SECRET).issue_session()
    ticket = service(secret=OLD_SECRET).issue_ticket(before.user_id, CONFIG_ID)
    tokens = rotated()

    assert tokens.verify_session(before.token) == before.user_id
    assert tokens.verify_ticket(ticket.ticket, CONFIG_ID) == before.user_id
    after = tokens.issue_session()
    assert jwt.get_unverified_header(after.token)["kid"] == key_id(NEW_SECRET)
    # The old secret only verifies: an environment not yet rotated cannot read new tokens...
    with pytest.raises(InvalidTokenError, match=r"^token is invalid$"):
        service(secret=OLD_SECRET).verify_session(after.token)
    # ...and once the grace period is over, old tokens are refused.
    with pytest.raises(InvalidTokenError, match=r"^token is invalid$"):
        rotated(previous=None).verify_session(before.token)


def test_an_unknown_key_is_refused_after_one_refresh() -> None:
    refreshes: list[int] = []

    def refresh() -> bool:
        refreshes.append(1)
        return True

    stranger = service(secret="stranger-secret-0123456789abcdef0123").issue_session()
    with pytest.raises(InvalidTokenError, match=r"^token is invalid$"):
        rotated(refresh=refresh).verify_session(stranger.token)
    assert len(refreshes) == 1
    # Known keys never cost a refresh.
    rotated(refresh=refresh).verify_session(service(secret=OLD_SECRET).issue_session().token)
    assert len(refreshes) == 1


def test_an_environment_that_missed_the_rotation_catches_up_on_the_first_new_token() -> None:
    """Secrets are cached for minutes: a token signed with the new key makes a stale reader
    read the secrets again instead of refusing a valid session."""
    stored = {"current": OLD_SECRET, "previous": None}
    seen = dict(stored)

    def refresh() -> bool:
        seen.update(stored)
        return True

    stale = TokenService(
        lambda: str(seen["current"]),
        timedelta(days=7),
        timedelta(minutes=5),
        previous=lambda: seen["previous"],
        refresh=refresh,
    )
    stored.update(current=NEW_SECRET, previous=OLD_SECRET)  # the rotation, not yet seen
    session = rotated().issue_session()

    assert stale.verify_session(session.token) == session.user_id
    assert seen == {"current": NEW_SECRET, "previous": OLD_SECRET}


def test_tokens_from_before_kids_are_checked_against_both_secrets() -> None:
    """Tokens issued before tokens carried a kid: either configured secret may have signed them."""
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": SESSION_AUDIENCE, "sub": "u" * 32,
              "exp": int((now + timedelta(days=1)).timestamp())}  # fmt: skip
    for secret in (OLD_SECRET, NEW_SECRET):
        legacy = jwt.encode(claims, secret, algorithm="HS256")
        assert "kid" not in jwt.get_unverified_header(legacy)
        assert rotated().verify_session(legacy) == "u" * 32
    forged = jwt.encode(claims, "stranger-secret-0123456789abcdef0123", algorithm="HS256")
    with pytest.raises(InvalidTokenError, match=r"^token is invalid$"):
        rotated().verify_session(forged)
    expired = jwt.encode({**claims, "exp": int(now.timestamp()) - 60}, OLD_SECRET, "HS256")
    with pytest.raises(InvalidTokenError, match=r"^token has expired$"):
        rotated().verify_session(expired)


# --- stream tickets: short-lived, bound to one configuration and its owner ----------------------


def test_a_ticket_is_dead_within_a_minute_by_default(clock: Clock) -> None:
    """Tickets travel in URLs: a copy read from a log a minute later opens nothing. (Expiry is
    checked against the real time, so the fake clock dates the issue in the past.)"""
    ttl = timedelta(seconds=Settings().STREAM_TICKET_TTL_SECONDS)
    assert ttl <= timedelta(seconds=30)
    tokens = TokenService(lambda: AUTH_SECRET, timedelta(days=7), ttl, clock=clock)

    def issued_ago(age: timedelta) -> str:
        clock.now = datetime.now(UTC) - age
        ticket = tokens.issue_ticket("u" * 32, CONFIG_ID)
        assert ticket.expires_at == clock.now.replace(microsecond=0) + ttl
        return ticket.ticket

    # The page opens its stream within a second or two of minting.
    assert tokens.verify_ticket(issued_ago(ttl - timedelta(seconds=5)), CONFIG_ID) == "u" * 32
    for age in (ttl + timedelta(seconds=2), timedelta(minutes=1), timedelta(minutes=4)):
        with pytest.raises(InvalidTokenError, match=r"^token has expired$"):
            tokens.verify_ticket(issued_ago(age), CONFIG_ID)


def test_ticket_lifetime_cannot_be_configured_long() -> None:
    with pytest.raises(ValueError, match="less than or equal to 120"):
        Settings(STREAM_TICKET_TTL_SECONDS=300)
    assert Settings(STREAM_TICKET_TTL_SECONDS=120).STREAM_TICKET_TTL_SECONDS == 120
