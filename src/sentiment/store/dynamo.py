"""The boto3 DynamoDB resource both apps share.

The endpoint comes from boto3's own ``AWS_ENDPOINT_URL_DYNAMODB`` (the local stack points it at
moto server), and the region from ``AWS_REGION``/``AWS_DEFAULT_REGION``.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# Fail fast inside a Lambda invocation rather than hang until its timeout.
_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 4},
    max_pool_connections=20,
)


def create_dynamodb_resource() -> Any:
    return boto3.session.Session().resource("dynamodb", config=_CONFIG)
