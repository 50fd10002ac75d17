"""Powertools Logger (JSON) and Metrics (CloudWatch EMF), created once per app and passed
around. ``emf`` is the telemetry writer; "metrics" alone means the dashboard's aggregates.

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
    emf: Metrics  # operational metrics as CloudWatch embedded metric format log lines


def metric_dimensions(service: str, settings: Settings) -> dict[str, str]:
    """The dimensions every metric of ``service`` carries."""
    return {"service": service, "environment": settings.ENVIRONMENT}


def create_observability(service: str, settings: Settings) -> Observability:
    emf = Metrics(namespace=settings.METRICS_NAMESPACE, service=service)
    emf.set_default_dimensions(environment=settings.ENVIRONMENT)
    return Observability(logger=Logger(service=service), emf=emf)
