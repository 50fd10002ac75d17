"""SecretSource: the environment locally, SSM SecureString parameters on AWS (cached five
minutes), read afresh on request at most once per refresh interval."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from pydantic import SecretStr

from sentiment.secrets import (
    REFRESH_INTERVAL_SECONDS,
    SecretNotConfiguredError,
    SecretSource,
    refresh_all,
)
from sentiment.settings import Settings

PARAMETER = "/test/sentiment/auth-secret"


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ssm(aws: None) -> Iterator[object]:
    # Powertools keeps one cache per process: start every test without it.
    parameters.clear_caches()
    client = boto3.client("ssm")
    client.put_parameter(Name=PARAMETER, Value="first-secret", Type="SecureString")
    yield client
    parameters.clear_caches()


def put(ssm: object, value: str) -> None:
    ssm.put_parameter(Name=PARAMETER, Value=value, Type="SecureString", Overwrite=True)  # type: ignore[attr-defined]


def test_parameter_is_cached_until_a_refresh(ssm: object) -> None:
    clock = Monotonic()
    source = SecretSource("AUTH_SECRET", None, PARAMETER, monotonic=clock)
    assert source() == "first-secret"
    put(ssm, "second-secret")
    assert source() == "first-secret"  # the five-minute cache

    assert source.refresh() is True
    assert source() == "second-secret"


def test_refreshes_are_rate_limited(ssm: object) -> None:
    """Forged kids cannot turn every request into an SSM call."""
    clock = Monotonic()
    source = SecretSource("AUTH_SECRET", None, PARAMETER, monotonic=clock)
    assert source.refresh() is True
    assert source() == "first-secret"
    put(ssm, "second-secret")
    clock.now += REFRESH_INTERVAL_SECONDS - 1
    assert source.refresh() is False
    assert source() == "first-secret"
    clock.now += 1
    assert source.refresh() is True
    assert source() == "second-secret"


def test_environment_values_never_refresh() -> None:
    source = SecretSource("AUTH_SECRET", SecretStr("from-env"), None)
    assert source.refresh() is False
    assert source() == "from-env"


def test_previous_secret_is_optional() -> None:
    settings = Settings(ENVIRONMENT="test", AUTH_SECRET=SecretStr("current-secret"))
    previous = SecretSource.previous_auth_secret(settings)
    assert previous.optional() is None
    with pytest.raises(SecretNotConfiguredError, match="set AUTH_SECRET_PREVIOUS or AUTH_SECRET_P"):
        previous()
    rotated = Settings(
        ENVIRONMENT="test", AUTH_SECRET=SecretStr("new"), AUTH_SECRET_PREVIOUS=SecretStr("old")
    )
    assert SecretSource.previous_auth_secret(rotated).optional() == "old"


def test_previous_secret_must_come_from_ssm_when_deployed() -> None:
    with pytest.raises(ValueError, match="AUTH_SECRET_PREVIOUS must come from SSM"):
        Settings(
            ENVIRONMENT="prod",
            AUTH_SECRET_PARAM="/prod/sentiment/auth-secret",
            AUTH_SECRET_PREVIOUS=SecretStr("old"),
        )


def test_refresh_all_asks_every_source() -> None:
    calls: list[str] = []

    class Fake(SecretSource):
        def refresh(self) -> bool:
            calls.append(self.name)
            return self.name == "B"

    refresh = refresh_all(Fake("A", None, None), Fake("B", None, None))
    assert refresh() is True
    assert calls == ["A", "B"]
