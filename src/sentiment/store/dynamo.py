"""The boto3 DynamoDB resource both apps share.

The endpoint comes from boto3's own ``AWS_ENDPOINT_URL_DYNAMODB`` (the local stack points it at
moto server), and the region from ``AWS_REGION``/``AWS_DEFAULT_REGION``.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from sentiment.settings import Settings


def create_dynamodb_resource(settings: Settings) -> Any:
    """Standard retries (exponential backoff with jitter on throttling, 5xx and connection
    errors) and timeouts from ``settings``: a stalled endpoint fails the call within its retry
    budget rather than hanging the invocation."""
    config = Config(
        connect_timeout=settings.DYNAMODB_CONNECT_TIMEOUT,
        read_timeout=settings.DYNAMODB_READ_TIMEOUT,
        retries={"mode": "standard", "max_attempts": settings.DYNAMODB_MAX_ATTEMPTS},
        max_pool_connections=20,
    )
    return boto3.session.Session().resource("dynamodb", config=config)
