from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dashboard.routes.responses import UNAVAILABLE, operation_id
from sentiment.metrics import MAX_WINDOW_HOURS
from sentiment.models import Metrics, TickerFilter
from sentiment.web import ServicesDep

router = APIRouter(prefix="/api/v2", tags=["metrics"], generate_unique_id_function=operation_id)


@router.get("/metrics", response_model=Metrics, responses=UNAVAILABLE)
def get_metrics(
    services: ServicesDep,
    hours: Annotated[int, Query(ge=1, le=MAX_WINDOW_HOURS)] = 24,
    tickers: Annotated[
        TickerFilter | None,
        Query(description="Up to 10 symbols: `?tickers=AAPL,MSFT` or `?tickers=AAPL&tickers=MSFT`"),
    ] = None,
) -> Metrics:
    """Counts, sentiment split, average score and per-ticker counts over the last hours."""
    return services.metrics.compute(hours, tickers)
