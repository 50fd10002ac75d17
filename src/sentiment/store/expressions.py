"""Numbered placeholders for DynamoDB expressions.

Attribute names go through ``#`` aliases (DynamoDB reserves hundreds of words, and ticker
attribute names hold ``:`` and ``.``), values through ``:`` placeholders."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def name_aliases(names: Iterable[str], prefix: str) -> dict[str, str]:
    """``{"#{prefix}0": first name, ...}``, in order: the ``ExpressionAttributeNames`` part."""
    return {f"#{prefix}{i}": name for i, name in enumerate(names)}


def value_placeholders(values: Iterable[Any], prefix: str) -> dict[str, Any]:
    """``{":{prefix}0": first value, ...}``, in order: the ``ExpressionAttributeValues`` part."""
    return {f":{prefix}{i}": value for i, value in enumerate(values)}
