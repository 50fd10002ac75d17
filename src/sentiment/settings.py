"""Every environment variable the two apps read, in one place.

Field names are the variable names, so Terraform, the dev stack and this class can be compared
by a test (tests/unit/test_drift.py). Libraries read a few more on their own (boto3's
``AWS_ENDPOINT_URL_DYNAMODB`` and region, Powertools' ``POWERTOOLS_*``, LWA's ``AWS_LWA_*``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, model_validator
from pydantic.functional_validators import BeforeValidator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sentiment.commas import comma_parts

LOCAL_ENVIRONMENTS = frozenset({"local", "test"})


def _split_csv(value: object) -> object:
    return comma_parts(value) if isinstance(value, str) else value


CsvList = Annotated[list[str], NoDecode, BeforeValidator(_split_csv)]


class Settings(BaseSettings):
    """Configuration of both Lambdas and the local stack."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True)

    ENVIRONMENT: str = Field("local", pattern=r"^[a-z][a-z0-9-]{0,19}$")

    # DynamoDB tables (names mirror infrastructure/terraform/dynamodb.tf).
    ITEMS_TABLE: str = "local-sentiment-items"
    COUNTERS_TABLE: str = "local-sentiment-counters"
    CONFIGURATIONS_TABLE: str = "local-sentiment-configurations"
    ITEM_TTL_DAYS: int = Field(30, ge=1, le=365)
    # How many of each hour's by_bucket index keys new items are spread over (readers always
    # merge all 4). 1 puts every item under the bare hour, as before the index was sharded:
    # the first step of the upgrade in docs/deploy.md ("Upgrading to the sharded index").
    INDEX_WRITE_SHARDS: int = Field(4, ge=1, le=4)

    # The storage client gives up within its whole retry budget (attempts x (connect + read)
    # plus backoff), well inside a Lambda invocation, instead of hanging until its timeout.
    DYNAMODB_CONNECT_TIMEOUT: float = Field(2.0, gt=0, le=60)
    DYNAMODB_READ_TIMEOUT: float = Field(5.0, gt=0, le=60)
    DYNAMODB_MAX_ATTEMPTS: int = Field(4, ge=1, le=10)

    # Secrets: a value straight from the environment (local stack) or the name of an SSM
    # SecureString parameter (AWS); the parameter wins when both are set.
    AUTH_SECRET: SecretStr | None = None
    AUTH_SECRET_PARAM: str | None = None
    # The signing secret before the last rotation: tokens it signed stay valid while it is set
    # (docs/deploy.md, "Rotating the signing secret"); nothing is signed with it.
    AUTH_SECRET_PREVIOUS: SecretStr | None = None
    AUTH_SECRET_PREVIOUS_PARAM: str | None = None
    INGEST_API_KEY: SecretStr | None = None
    INGEST_API_KEY_PARAM: str | None = None
    SESSION_TTL_SECONDS: int = Field(7 * 24 * 3600, ge=60)
    # Tickets travel in stream URLs (EventSource cannot send headers), so they must be dead before
    # a leaked copy is read: seconds, not minutes. Each opens one configuration's stream for its
    # owner and nothing else (docs/deploy.md, "Stream tickets").
    STREAM_TICKET_TTL_SECONDS: int = Field(30, ge=10, le=120)

    # Dashboard: where the page finds the SSE Lambda, and app-level CORS (local stack only;
    # on AWS the Function URLs own CORS so headers are never duplicated).
    SSE_URL: str = ""
    CORS_ALLOWED_ORIGINS: CsvList = []

    # SSE Lambda (seconds unless named otherwise).
    SSE_HEARTBEAT_INTERVAL: float = Field(30.0, gt=0, le=300)
    SSE_METRICS_INTERVAL: float = Field(30.0, gt=0, le=60)
    SSE_POLL_INTERVAL: float = Field(1.0, ge=0.05, le=60)
    SSE_MAX_CONNECTIONS: int = Field(100, ge=1)
    SSE_REPLAY_LIMIT: int = Field(500, ge=1, le=10_000)
    SSE_MAX_STREAM_SECONDS: float = Field(840.0, gt=0, le=900)

    METRICS_NAMESPACE: str = "SentimentDashboard"

    @model_validator(mode="after")
    def _no_inline_secrets_outside_local(self) -> Settings:
        """Deployed environments must read secrets from SSM, never from plain variables."""
        if self.ENVIRONMENT not in LOCAL_ENVIRONMENTS:
            for name in ("AUTH_SECRET", "AUTH_SECRET_PREVIOUS", "INGEST_API_KEY"):
                if getattr(self, name) is not None and getattr(self, f"{name}_PARAM") is None:
                    raise ValueError(
                        f"{name} must come from SSM ({name}_PARAM) when ENVIRONMENT="
                        f"{self.ENVIRONMENT!r}; plain values are for the local stack only"
                    )
        return self
