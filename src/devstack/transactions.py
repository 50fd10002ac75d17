"""Atomic transactions for the embedded DynamoDB, as DynamoDB's are.

moto's ``TransactWriteItems`` deep-copies every table it touches, applies the actions one by one
and, when one fails, puts the copied tables back, with no lock. Under concurrent requests that is
not atomic: two transactions interleave, and a cancelled one restores a copy taken before another
one committed, erasing it (twelve concurrent POSTs of one item counted it twice). The copies also
grow with the tables, so a local ingest slowed down as demo data piled up.

:func:`make_atomic` fixes both for the process it runs in: every DynamoDB request moto handles
runs under one lock (requests are serializable, as DynamoDB's transactions are with respect to
other writes, and reads never see half a transaction), and a transaction saves and restores only
the items it touches.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.responses import DynamoHandler

MAX_ACTIONS = 100
Patch = Callable[[object, str, object], None]
# (table name, its key) -> the item as it was before the transaction, or None if absent.
Saved = dict[tuple[str, str], tuple[dict[str, Any], Item | None]]


def make_atomic(patch: Patch = setattr) -> None:
    """Serialize moto's DynamoDB request handling and make its transactions item-scoped.

    ``patch`` sets the attributes (``monkeypatch.setattr`` in tests, to undo it afterwards).
    """
    lock = threading.RLock()
    handle = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        with lock:
            return handle(self)

    patch(DynamoHandler, "call_action", call_action)
    patch(DynamoDBBackend, "transact_write_items", transact_write_items)


def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's semantics (conditions, cancellation reasons, validation errors), with a rollback
    of the touched items only. Callers hold the lock :func:`make_atomic` installs."""
    if len(transact_items) > MAX_ACTIONS:
        raise TooManyTransactionsException()
    saved: Saved = {}
    reasons: list[tuple[str, str, Any] | tuple[None, None, None]] = []
    try:
        for action in transact_items:
            reasons.append(_apply(backend, action, saved))
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
    except Exception:
        _restore(backend, saved)
        raise


def _apply(
    backend: DynamoDBBackend, action: dict[str, Any], saved: Saved
) -> tuple[str, str, Any] | tuple[None, None, None]:
    """Apply one action, after saving the item it touches; its cancellation reason, if any."""
    if len(action) > 1:
        raise TransactWriteSingleOpException
    op_type, op = next(iter(action.items()))
    try:
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table_name = op["TableName"]
        key = _key(backend, op_type, op)
        identity = (table_name, str(sorted(key.items())))
        if identity in saved:
            raise MultipleTransactionsException()
        current = backend.get_item(table_name, key)
        saved[identity] = (key, copy.deepcopy(current))
        names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        condition = op.get("ConditionExpression")
        if condition is not None and not get_filter_expression(condition, names, values).expr(
            current
        ):
            wanted = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
            old = current.to_json()["Attributes"] if wanted and current else None
            return ("ConditionalCheckFailed", "The conditional request failed", old)
        if op_type == "Put":
            backend.put_item(table_name, op["Item"], None, condition, names, values)
        elif op_type == "Delete":
            backend.delete_item(table_name, key, names, values, condition)
        elif op_type == "Update":
            backend.update_item(
                table_name, key, op["UpdateExpression"], names, values, None, None, condition
            )
    except (MultipleTransactionsException, MockValidationException):
        raise
    except Exception as error:
        return (type(error).__name__, str(error), None)
    return (None, None, None)


def _key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _restore(backend: DynamoDBBackend, saved: Saved) -> None:
    """Put every touched item back as it was before the transaction."""
    for (table_name, _), (key, item) in saved.items():
        if item is None:
            if backend.get_item(table_name, key) is not None:
                backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, item.to_json()["Attributes"], overwrite=True)
