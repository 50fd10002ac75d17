"""The collaborators both apps are built from, wired once from :class:`Settings`."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sentiment.auth import TokenService
from sentiment.metrics import MetricsService
from sentiment.secrets import SecretSource, refresh_all
from sentiment.settings import Settings
from sentiment.store import ConfigurationStore, CounterStore, ItemStore, create_dynamodb_resource
from sentiment.store.index import IndexLayout
from sentiment.store.tables import BY_BUCKET_REPLICAS


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
    auth_secret = SecretSource.auth_secret(settings)
    previous_auth_secret = SecretSource.previous_auth_secret(settings)
    return Services(
        settings=settings,
        dynamodb=dynamodb,
        items=ItemStore(
            dynamodb,
            settings.ITEMS_TABLE,
            settings.COUNTERS_TABLE,
            ttl=timedelta(days=settings.ITEM_TTL_DAYS),
            layout=IndexLayout(
                write_shards=settings.INDEX_WRITE_SHARDS,
                # Each process reads one copy of the index: the copies share the polls.
                index_name=random.choice(BY_BUCKET_REPLICAS),  # noqa: S311 (spreading load)
            ),
        ),
        configurations=ConfigurationStore(dynamodb, settings.CONFIGURATIONS_TABLE),
        # Settled hours are read once per process, so a warm process reads only the newest.
        metrics=MetricsService(CounterStore(dynamodb, settings.COUNTERS_TABLE, cache_settled=True)),
        tokens=TokenService(
            auth_secret,
            session_ttl=timedelta(seconds=settings.SESSION_TTL_SECONDS),
            ticket_ttl=timedelta(seconds=settings.STREAM_TICKET_TTL_SECONDS),
            previous=previous_auth_secret.optional,
            refresh=refresh_all(auth_secret, previous_auth_secret),
        ),
        ingest_api_key=SecretSource.ingest_api_key(settings),
    )
