"""Secrets from SSM Parameter Store on AWS, or straight from the environment locally."""

from __future__ import annotations

from pydantic import SecretStr

from sentiment.settings import Settings

# Powertools caches parameters in memory; five minutes bounds how long a rotated secret lingers.
SECRET_MAX_AGE_SECONDS = 300


class SecretNotConfiguredError(RuntimeError):
    """Neither the variable nor its ``_PARAM`` counterpart is set."""


class SecretSource:
    """Resolves one secret on demand, so a cold start does not pay for secrets it never uses."""

    def __init__(self, name: str, value: SecretStr | None, parameter: str | None) -> None:
        self.name = name
        self._value = value
        self._parameter = parameter

    def __call__(self) -> str:
        if self._parameter:
            # Imported here: the parameters utility builds boto3 clients on first use.
            from aws_lambda_powertools.utilities import parameters

            value = parameters.get_parameter(
                self._parameter, decrypt=True, max_age=SECRET_MAX_AGE_SECONDS
            )
            return str(value)
        if self._value is not None and self._value.get_secret_value():
            return self._value.get_secret_value()
        raise SecretNotConfiguredError(
            f"{self.name} is not configured: set {self.name} or {self.name}_PARAM"
        )

    @classmethod
    def auth_secret(cls, settings: Settings) -> SecretSource:
        return cls("AUTH_SECRET", settings.AUTH_SECRET, settings.AUTH_SECRET_PARAM)

    @classmethod
    def ingest_api_key(cls, settings: Settings) -> SecretSource:
        return cls("INGEST_API_KEY", settings.INGEST_API_KEY, settings.INGEST_API_KEY_PARAM)
