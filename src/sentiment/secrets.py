"""Secrets from SSM Parameter Store on AWS, or straight from the environment locally."""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import SecretStr

from sentiment.settings import Settings

# Powertools caches parameters in memory; five minutes bounds how long a rotated secret lingers.
SECRET_MAX_AGE_SECONDS = 300
# A token signed with a key this process does not know makes it re-read the signing secrets, at
# most this often: enough to pick up a rotation at once, too seldom for forged kids to turn
# requests into a stream of SSM calls.
REFRESH_INTERVAL_SECONDS = 30.0


class SecretNotConfiguredError(RuntimeError):
    """Neither the variable nor its ``_PARAM`` counterpart is set."""


class SecretSource:
    """Resolves one secret on demand, so a cold start does not pay for secrets it never uses."""

    def __init__(
        self,
        name: str,
        value: SecretStr | None,
        parameter: str | None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._value = value
        self._parameter = parameter
        self._monotonic = monotonic
        self._refreshed_at: float | None = None
        self._fetch_fresh = False

    def __call__(self) -> str:
        value = self.optional()
        if value is None:
            raise SecretNotConfiguredError(
                f"{self.name} is not configured: set {self.name} or {self.name}_PARAM"
            )
        return value

    def optional(self) -> str | None:
        """The secret, or None when neither the variable nor the parameter is set."""
        if self._parameter:
            # Imported here: the parameters utility builds boto3 clients on first use.
            from aws_lambda_powertools.utilities import parameters

            fresh, self._fetch_fresh = self._fetch_fresh, False
            value = parameters.get_parameter(
                self._parameter, decrypt=True, max_age=SECRET_MAX_AGE_SECONDS, force_fetch=fresh
            )
            return str(value)
        if self._value is not None and self._value.get_secret_value():
            return self._value.get_secret_value()
        return None

    def refresh(self) -> bool:
        """Read the parameter afresh on next use (not more than once per refresh interval);
        True if that will happen. A value from the environment never changes: False."""
        if not self._parameter:
            return False
        now = self._monotonic()
        if self._refreshed_at is not None and now - self._refreshed_at < REFRESH_INTERVAL_SECONDS:
            return False
        self._refreshed_at = now
        self._fetch_fresh = True
        return True

    @classmethod
    def auth_secret(cls, settings: Settings) -> SecretSource:
        return cls("AUTH_SECRET", settings.AUTH_SECRET, settings.AUTH_SECRET_PARAM)

    @classmethod
    def previous_auth_secret(cls, settings: Settings) -> SecretSource:
        """The secret before the last rotation: accepted on tokens, never used to sign."""
        return cls(
            "AUTH_SECRET_PREVIOUS",
            settings.AUTH_SECRET_PREVIOUS,
            settings.AUTH_SECRET_PREVIOUS_PARAM,
        )

    @classmethod
    def ingest_api_key(cls, settings: Settings) -> SecretSource:
        return cls("INGEST_API_KEY", settings.INGEST_API_KEY, settings.INGEST_API_KEY_PARAM)


def refresh_all(*sources: SecretSource) -> Callable[[], bool]:
    """One ``refresh`` for several sources: True if any of them will be read afresh."""

    def refresh() -> bool:
        asked = [source.refresh() for source in sources]  # every one, no short-circuit
        return any(asked)

    return refresh
