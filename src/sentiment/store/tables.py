"""DynamoDB table definitions: the one place keys, indexes and TTL attributes are named.

Terraform mirrors these in ``infrastructure/terraform/dynamodb.tf``; a drift test compares the
two. The dev stack and the unit tests create tables from :func:`create_table_request`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sentiment.settings import Settings


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: str
    range_key: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """Keys, attribute types and indexes of one table (all projections are ALL)."""

    settings_field: str
    hash_key: str
    range_key: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None

    def name(self, settings: Settings) -> str:
        return str(getattr(settings, self.settings_field))


# Item attribute names used in key conditions and updates.
ITEM_ID = "item_id"
BUCKET = "bucket"
POSITION = "position"
EXPIRES_AT = "expires_at"
BY_BUCKET_INDEX = "by_bucket"
# Copies of by_bucket (same keys): each reader queries one, so each copy's keys take only its
# share of the streams' polls (docs/architecture.md, "Counters and hot keys").
BY_BUCKET_REPLICAS = (BY_BUCKET_INDEX, "by_bucket_r1")
# Counter attributes the ranking index is keyed on.
RANK_KEY = "rank_key"
RANK_TOTAL = "total"
BY_RANK_INDEX = "by_rank"

ITEMS = TableSpec(
    settings_field="ITEMS_TABLE",
    hash_key=ITEM_ID,
    attributes={ITEM_ID: "S", BUCKET: "S", POSITION: "S"},
    # "Items after position P": partition = UTC hour of ingested_at and the item's index shard
    # (sentiment.store.index), sort = ingested_at#item_id.
    indexes=tuple(
        IndexSpec(name, hash_key=BUCKET, range_key=POSITION) for name in BY_BUCKET_REPLICAS
    ),
    ttl_attribute=EXPIRES_AT,
)

COUNTERS = TableSpec(
    settings_field="COUNTERS_TABLE",
    hash_key="counter_id",
    attributes={"counter_id": "S", RANK_KEY: "S", RANK_TOTAL: "N"},
    # Sparse: only per-ticker hour rows carry rank_key. "The most mentioned tickers of an
    # hour": partition = hour and rank shard, sort = the ticker's mentions in that hour.
    indexes=(IndexSpec(BY_RANK_INDEX, hash_key=RANK_KEY, range_key=RANK_TOTAL),),
    ttl_attribute=EXPIRES_AT,
)

CONFIGURATIONS = TableSpec(
    settings_field="CONFIGURATIONS_TABLE",
    hash_key="user_id",
    range_key="config_id",
    attributes={"user_id": "S", "config_id": "S"},
)

ALL_TABLES = (ITEMS, COUNTERS, CONFIGURATIONS)


def create_table_request(spec: TableSpec, name: str) -> dict[str, Any]:
    """Keyword arguments for ``client.create_table`` (on-demand billing)."""
    key_schema = [{"AttributeName": spec.hash_key, "KeyType": "HASH"}]
    if spec.range_key:
        key_schema.append({"AttributeName": spec.range_key, "KeyType": "RANGE"})
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": attribute, "AttributeType": kind}
            for attribute, kind in spec.attributes.items()
        ],
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.hash_key, "KeyType": "HASH"}]
                + (
                    [{"AttributeName": index.range_key, "KeyType": "RANGE"}]
                    if index.range_key
                    else []
                ),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in spec.indexes
        ]
    return request


def create_tables(client: Any, settings: Settings) -> list[str]:
    """Create every missing table and enable TTL; returns the names created."""
    existing = set(client.list_tables()["TableNames"])
    created = []
    for spec in ALL_TABLES:
        name = spec.name(settings)
        if name in existing:
            continue
        client.create_table(**create_table_request(spec, name))
        client.get_waiter("table_exists").wait(TableName=name)
        if spec.ttl_attribute:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
        created.append(name)
    return created
