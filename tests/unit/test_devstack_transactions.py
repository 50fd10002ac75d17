"""The embedded DynamoDB's transactions: all or nothing, restoring only what they touched."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from devstack.transactions import make_atomic
from sentiment.settings import Settings


@pytest.fixture
def client(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    make_atomic(monkeypatch.setattr)
    return dynamodb.meta.client


def put(table: str, counter_id: str, **condition: str) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"counter_id": counter_id}, **condition}}


def add(table: str, counter_id: str, amount: int, **condition: Any) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": {"counter_id": counter_id},
            "UpdateExpression": "ADD #n :v",
            "ExpressionAttributeNames": {"#n": "n"},
            "ExpressionAttributeValues": {":v": amount, **condition.pop("values", {})},
            **condition,
        }
    }


def rows(client: Any, table: str) -> dict[str, int]:
    """Every row's counter (the resource's client speaks plain Python values)."""
    items = client.scan(TableName=table)["Items"]
    return {i["counter_id"]: int(i.get("n", 0)) for i in items}


def test_a_committed_transaction_applies_every_action(client: Any, settings: Settings) -> None:
    table = settings.COUNTERS_TABLE
    client.transact_write_items(TransactItems=[put(table, "a"), add(table, "b", 2)])
    assert rows(client, table) == {"a": 0, "b": 2}


def test_a_cancelled_transaction_restores_the_items_it_touched(
    client: Any, settings: Settings
) -> None:
    table = settings.COUNTERS_TABLE
    client.transact_write_items(TransactItems=[add(table, "kept", 5), add(table, "other", 1)])
    failing = add(
        table,
        "other",
        1,
        ConditionExpression="#n > :big",
        values={":big": 100},
    )

    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[add(table, "kept", 10), put(table, "new"), failing]
        )

    error = raised.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    codes = [reason["Code"] for reason in error["CancellationReasons"]]
    assert codes == ["None", "None", "ConditionalCheckFailed"]
    assert rows(client, table) == {"kept": 5, "other": 1}  # "new" is gone, "kept" is back at 5


def test_one_item_twice_in_a_transaction_is_a_validation_error(
    client: Any, settings: Settings
) -> None:
    table = settings.COUNTERS_TABLE
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[add(table, "x", 1), add(table, "x", 1)])
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert rows(client, table) == {}
