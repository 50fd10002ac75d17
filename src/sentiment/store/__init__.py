"""DynamoDB access: table definitions, items with their counters, and configurations."""

from sentiment.store.configurations import (
    ConfigurationLimitError,
    ConfigurationNotFoundError,
    ConfigurationStore,
)
from sentiment.store.counters import CounterStore
from sentiment.store.dynamo import create_dynamodb_resource
from sentiment.store.items import ItemStore

__all__ = [
    "ConfigurationLimitError",
    "ConfigurationNotFoundError",
    "ConfigurationStore",
    "CounterStore",
    "ItemStore",
    "create_dynamodb_resource",
]
