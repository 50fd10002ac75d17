"""The Lambda entry point ``dashboard.handler.handler`` (Function URL, BUFFERED)."""

from __future__ import annotations

from functools import cache
from typing import Any

from mangum import Mangum

from dashboard.app import create_app
from sentiment.observability import create_observability
from sentiment.settings import Settings

LambdaHandler = Any


@cache
def build_handler() -> LambdaHandler:
    """Built on the first invocation and reused while the execution environment lives."""
    settings = Settings()
    observability = create_observability("dashboard", settings)
    app = create_app(settings, observability=observability)
    asgi = Mangum(app, lifespan="off")
    with_logs = observability.logger.inject_lambda_context(asgi, clear_state=True)
    return observability.emf.log_metrics(with_logs)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = build_handler()(event, context)
    return response
