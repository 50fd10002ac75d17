"""Powertools Logger (JSON) and Metrics (EMF), created once per app and passed around."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger, Metrics

from sentiment.settings import Settings


@dataclass(frozen=True)
class Observability:
    logger: Logger
    metrics: Metrics


def create_observability(service: str, settings: Settings) -> Observability:
    return Observability(
        logger=Logger(service=service),
        metrics=Metrics(namespace=settings.METRICS_NAMESPACE, service=service),
    )
