"""Anonymous session tokens and single-stream tickets (JWT, HS256).

A session token proves "I am user U" for the REST configuration routes. A stream ticket is for
browsers, whose ``EventSource`` cannot send an ``Authorization`` header: it proves "user U may
open the stream of configuration C" for seconds (it travels in a URL) and is useless for
anything else. The two are told apart by audience, so neither can stand in for the other.

Key rotation without logging anyone out: every token names its signing key in a ``kid`` header
(a fingerprint of the secret, which reveals nothing of it). Tokens are signed with the current
secret and verified with whichever of the current and the previous secret their ``kid`` names,
so a session made before a rotation keeps working for as long as the old secret stays
configured as the previous one (docs/deploy.md, "Rotating the signing secret"). A ``kid``
neither secret has makes the secrets be read again (at most once per refresh interval, see
``sentiment.secrets``) before the token is refused: an environment that still holds the
secrets from before a rotation accepts tokens signed by one that already has the new ones.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import jwt

from sentiment.models import Session, StreamTicket
from sentiment.positions import utc_now

ISSUER = "sentiment-dashboard"
SESSION_AUDIENCE = "sentiment:session"
TICKET_AUDIENCE = "sentiment:stream-ticket"
_ALGORITHM = "HS256"


class InvalidTokenError(Exception):
    """Missing, malformed, expired, tampered with, or meant for something else."""


def key_id(secret: str) -> str:
    """The ``kid`` of a secret: a keyed fingerprint, stable and safe to publish."""
    return hmac.new(secret.encode(), b"sentiment-dashboard kid", hashlib.sha256).hexdigest()[:16]


def _no_previous() -> str | None:
    return None


def _no_refresh() -> bool:
    return False


class TokenService:
    def __init__(
        self,
        secret: Callable[[], str],
        session_ttl: timedelta,
        ticket_ttl: timedelta,
        clock: Callable[[], datetime] = utc_now,
        *,
        previous: Callable[[], str | None] = _no_previous,
        refresh: Callable[[], bool] = _no_refresh,
    ) -> None:
        """``secret`` signs and verifies; ``previous`` (None when there is none) only verifies;
        ``refresh`` asks both to be read afresh next time and says whether they will be."""
        self._secret = secret
        self._previous = previous
        self._refresh = refresh
        self._session_ttl = session_ttl
        self._ticket_ttl = ticket_ttl
        self._clock = clock

    def issue_session(self) -> Session:
        user_id = uuid.uuid4().hex
        token, expires_at = self._encode(user_id, SESSION_AUDIENCE, self._session_ttl)
        return Session(user_id=user_id, token=token, expires_at=expires_at)

    def verify_session(self, token: str) -> str:
        """The user id a session token names."""
        return str(self._decode(token, SESSION_AUDIENCE)["sub"])

    def issue_ticket(self, user_id: str, config_id: str) -> StreamTicket:
        ticket, expires_at = self._encode(
            user_id, TICKET_AUDIENCE, self._ticket_ttl, {"cfg": config_id}
        )
        return StreamTicket(ticket=ticket, expires_at=expires_at)

    def verify_ticket(self, ticket: str, config_id: str) -> str:
        """The user id a ticket names, if it was issued for ``config_id``."""
        claims = self._decode(ticket, TICKET_AUDIENCE)
        if claims.get("cfg") != config_id:
            raise InvalidTokenError("ticket was issued for another configuration")
        return str(claims["sub"])

    def _encode(
        self, subject: str, audience: str, ttl: timedelta, extra: dict[str, str] | None = None
    ) -> tuple[str, datetime]:
        now = self._clock()
        expires_at = (now + ttl).replace(microsecond=0)
        claims = {
            "iss": ISSUER,
            "aud": audience,
            "sub": subject,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            **(extra or {}),
        }
        secret = self._secret()
        token = jwt.encode(claims, secret, algorithm=_ALGORITHM, headers={"kid": key_id(secret)})
        return token, expires_at

    def _keys(self) -> dict[str, str]:
        """The secrets that verify, by ``kid``: the current one and the previous one."""
        secrets = [self._previous(), self._secret()]
        return {key_id(secret): secret for secret in secrets if secret}

    def _candidates(self, token: str) -> list[str]:
        """The secret the token's ``kid`` names (read afresh once if none does)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as error:
            raise InvalidTokenError("token is invalid") from error
        keys = self._keys()
        if kid is None:
            # Signed before tokens carried a kid: either secret may have signed it.
            return list(reversed(keys.values()))
        if kid not in keys and self._refresh():
            keys = self._keys()
        if not isinstance(kid, str) or kid not in keys:
            raise InvalidTokenError("token is invalid")
        return [keys[kid]]

    def _decode(self, token: str, audience: str) -> dict[str, object]:
        *others, last = self._candidates(token)
        for secret in others:
            try:
                return self._verify(token, secret, audience)
            except InvalidTokenError as error:
                if not isinstance(error.__cause__, jwt.InvalidSignatureError):
                    raise
        return self._verify(token, last, audience)

    def _verify(self, token: str, secret: str, audience: str) -> dict[str, object]:
        try:
            claims: dict[str, object] = jwt.decode(
                token,
                secret,
                algorithms=[_ALGORITHM],
                audience=audience,
                issuer=ISSUER,
                options={"require": ["exp", "sub", "aud", "iss"], "verify_iat": False},
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidTokenError("token has expired") from error
        except jwt.InvalidAudienceError as error:
            raise InvalidTokenError("token is not valid for this use") from error
        except jwt.PyJWTError as error:
            raise InvalidTokenError("token is invalid") from error
        if not isinstance(claims.get("sub"), str):
            raise InvalidTokenError("token is invalid")
        return claims
