"""Per-user configurations (named watch lists), at most five per user.

The limit is enforced atomically: each user has a ``#count`` row whose counter is raised in the
same transaction that puts a configuration, on the condition that it is below the limit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from sentiment.models import (
    MAX_CONFIGURATIONS_PER_USER,
    Configuration,
    ConfigurationIn,
    ConfigurationPatch,
)
from sentiment.positions import format_timestamp, utc_now
from sentiment.store.errors import cancellation_reasons
from sentiment.store.expressions import name_aliases, value_placeholders

COUNT_ROW = "#count"


class ConfigurationLimitError(Exception):
    """The user already has the maximum number of configurations."""


class ConfigurationNotFoundError(Exception):
    """No such configuration for this user (another user's counts as none)."""


def _condition_failed_first(error: ClientError) -> bool:
    """A cancelled transaction whose first action's condition failed."""
    return cancellation_reasons(error)[:1] == ["ConditionalCheckFailed"]


class ConfigurationStore:
    def __init__(
        self, resource: Any, table_name: str, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._client = resource.meta.client
        self._table = resource.Table(table_name)
        self._table_name = table_name
        self._clock = clock

    def list(self, user_id: str) -> list[Configuration]:
        rows = self._table.query(KeyConditionExpression=Key("user_id").eq(user_id))["Items"]
        configs = [Configuration.model_validate(r) for r in rows if r["config_id"] != COUNT_ROW]
        return sorted(configs, key=lambda config: (config.created_at, config.config_id))

    def get(self, user_id: str, config_id: str) -> Configuration:
        if config_id == COUNT_ROW:
            raise ConfigurationNotFoundError(config_id)
        row = self._table.get_item(Key={"user_id": user_id, "config_id": config_id}).get("Item")
        if row is None:
            raise ConfigurationNotFoundError(config_id)
        return Configuration.model_validate(row)

    def create(self, user_id: str, data: ConfigurationIn) -> Configuration:
        now = self._clock()
        config = Configuration(
            config_id=uuid.uuid4().hex,
            name=data.name,
            tickers=data.tickers,
            created_at=now,
            updated_at=now,
        )
        row = {"user_id": user_id, **config.model_dump(mode="json")}
        try:
            self._client.transact_write_items(
                TransactItems=[
                    self._count_update(user_id, +1),
                    {
                        "Put": {
                            "TableName": self._table_name,
                            "Item": row,
                            "ConditionExpression": "attribute_not_exists(config_id)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if _condition_failed_first(error):
                raise ConfigurationLimitError(user_id) from error
            raise
        return config

    def update(self, user_id: str, config_id: str, patch: ConfigurationPatch) -> Configuration:
        changes: dict[str, Any] = patch.model_dump(exclude_none=True)
        changes["updated_at"] = format_timestamp(self._clock())
        names = name_aliases(changes, "f")
        values = value_placeholders(changes.values(), "v")
        assignments = ", ".join(f"#f{i} = :v{i}" for i in range(len(changes)))
        if config_id == COUNT_ROW:
            raise ConfigurationNotFoundError(config_id)
        try:
            row = self._table.update_item(
                Key={"user_id": user_id, "config_id": config_id},
                UpdateExpression=f"SET {assignments}",
                ConditionExpression="attribute_exists(config_id)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConfigurationNotFoundError(config_id) from error
            raise
        return Configuration.model_validate(row)

    def delete(self, user_id: str, config_id: str) -> None:
        if config_id == COUNT_ROW:
            raise ConfigurationNotFoundError(config_id)
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table_name,
                            "Key": {"user_id": user_id, "config_id": config_id},
                            "ConditionExpression": "attribute_exists(config_id)",
                        }
                    },
                    self._count_update(user_id, -1),
                ]
            )
        except ClientError as error:
            if _condition_failed_first(error):
                raise ConfigurationNotFoundError(config_id) from error
            raise

    def _count_update(self, user_id: str, delta: int) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._table_name,
            "Key": {"user_id": user_id, "config_id": COUNT_ROW},
            "UpdateExpression": "ADD #n :delta",
            "ExpressionAttributeNames": {"#n": "configurations"},
            "ExpressionAttributeValues": {":delta": delta},
        }
        if delta > 0:
            update["ConditionExpression"] = "attribute_not_exists(#n) OR #n < :limit"
            update["ExpressionAttributeValues"][":limit"] = MAX_CONFIGURATIONS_PER_USER
        return {"Update": update}
