"""The collaborators both apps are built from, wired once from :class:`Settings`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sentiment.auth import TokenService
from sentiment.metrics import MetricsService
from sentiment.secrets import SecretSource
from sentiment.settings import Settings
from sentiment.store import ConfigurationStore, CounterStore, ItemStore, create_dynamodb_resource


@dataclass(frozen=True)
class Services:
    settings: Settings
    dynamodb: Any
    items: ItemStore
    configurations: ConfigurationStore
    metrics: MetricsService
    tokens: TokenService
    ingest_api_key: SecretSource

    def check_storage(self) -> None:
        """Raises if the items table cannot be read (a data-plane read of one absent key)."""
        self.dynamodb.meta.client.get_item(
            TableName=self.settings.ITEMS_TABLE, Key={"item_id": "health-check"}
        )


def build_services(settings: Settings, dynamodb: Any | None = None) -> Services:
    dynamodb = dynamodb or create_dynamodb_resource(settings)
    return Services(
        settings=settings,
        dynamodb=dynamodb,
        items=ItemStore(
            dynamodb,
            settings.ITEMS_TABLE,
            settings.COUNTERS_TABLE,
            ttl=timedelta(days=settings.ITEM_TTL_DAYS),
        ),
        configurations=ConfigurationStore(dynamodb, settings.CONFIGURATIONS_TABLE),
        metrics=MetricsService(CounterStore(dynamodb, settings.COUNTERS_TABLE)),
        tokens=TokenService(
            SecretSource.auth_secret(settings),
            session_ttl=timedelta(seconds=settings.SESSION_TTL_SECONDS),
            ticket_ttl=timedelta(seconds=settings.STREAM_TICKET_TTL_SECONDS),
        ),
        ingest_api_key=SecretSource.ingest_api_key(settings),
    )
