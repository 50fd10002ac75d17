"""Powertools Logger (JSON) and Metrics (EMF), created once per app and passed around.

Both apps' metrics carry two dimensions, ``service`` (dashboard, sse) and ``environment`` (the
deployment's ENVIRONMENT), so deployments sharing an account and a namespace never mix; the
log fields both apps write are listed in sentiment/request_context.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger, Metrics

from sentiment.settings import Settings


@dataclass(frozen=True)
class Observability:
    logger: Logger
    metrics: Metrics


def metric_dimensions(service: str, settings: Settings) -> dict[str, str]:
    """The dimensions every metric of ``service`` carries."""
    return {"service": service, "environment": settings.ENVIRONMENT}


def create_observability(service: str, settings: Settings) -> Observability:
    metrics = Metrics(namespace=settings.METRICS_NAMESPACE, service=service)
    metrics.set_default_dimensions(environment=settings.ENVIRONMENT)
    return Observability(logger=Logger(service=service), metrics=metrics)
