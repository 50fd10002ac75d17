"""Anonymous session tokens and single-stream tickets (JWT, HS256).

A session token proves "I am user U" for the REST configuration routes. A stream ticket is for
browsers, whose ``EventSource`` cannot send an ``Authorization`` header: it proves "user U may
open the stream of configuration C" for a few minutes and is useless for anything else. The two
are told apart by audience, so neither can stand in for the other.
"""

from __future__ import annotations

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


class TokenService:
    def __init__(
        self,
        secret: Callable[[], str],
        session_ttl: timedelta,
        ticket_ttl: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._secret = secret
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
        return jwt.encode(claims, self._secret(), algorithm=_ALGORITHM), expires_at

    def _decode(self, token: str, audience: str) -> dict[str, object]:
        try:
            claims: dict[str, object] = jwt.decode(
                token,
                self._secret(),
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
