from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response, Security, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader
from pydantic import Discriminator, Tag

from dashboard.routes.responses import (
    INGEST_LINKS,
    NEXT_PAGE_LINKS,
    NO_API_KEY,
    UNAVAILABLE,
    UNREADABLE_BODY,
    operation_id,
)
from sentiment.models import (
    MAX_BATCH_ITEMS,
    IngestResult,
    ItemBatch,
    ItemIn,
    ItemPage,
    Sentiment,
    Ticker,
)
from sentiment.positions import (
    TOKEN_PATTERN,
    InvalidPositionError,
    Position,
    from_the_future,
    utc_now,
)
from sentiment.web import ObservabilityDep, ServicesDep, unauthorized

router = APIRouter(prefix="/api/v2/items", tags=["items"], generate_unique_id_function=operation_id)

API_KEY_SCHEME = 'ApiKey header="X-API-Key"'
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="The ingest API key")


def require_ingest_key(
    services: ServicesDep, api_key: Annotated[str | None, Security(_api_key)]
) -> None:
    """Constant-time comparison with INGEST_API_KEY."""
    if not api_key:
        raise unauthorized("missing X-API-Key header", API_KEY_SCHEME)
    if not hmac.compare_digest(api_key.encode(), services.ingest_api_key().encode()):
        raise unauthorized("invalid API key", API_KEY_SCHEME)


def page_cursor(
    cursor: Annotated[
        str | None,
        Query(
            description="`next_cursor` of the previous page (a token this API wrote)",
            # Documented only: a malformed token keeps its precise 422 from Position.decode.
            json_schema_extra={"pattern": TOKEN_PATTERN},
        ),
    ] = None,
) -> Position | None:
    if cursor is None:
        return None
    try:
        position = Position.decode(cursor)
        if from_the_future(position.ingested_at, utc_now()):
            raise InvalidPositionError("cursor is from the future")
    except InvalidPositionError as error:
        invalid = {"type": "value_error", "loc": ("query", "cursor"), "msg": str(error)}
        raise RequestValidationError([{**invalid, "input": cursor}]) from error
    return position


def _batch_or_single(body: Any) -> str:
    return "batch" if isinstance(body, dict) and "items" in body else "single"


IngestBody = Annotated[
    Annotated[ItemBatch, Tag("batch")] | Annotated[ItemIn, Tag("single")],
    Discriminator(_batch_or_single),
    Body(description=f'One item, or `{{"items": [...]}}` with 1-{MAX_BATCH_ITEMS} items'),
]


@router.get("", response_model=ItemPage, responses={200: NEXT_PAGE_LINKS, **UNAVAILABLE})
def list_items(
    services: ServicesDep,
    cursor: Annotated[Position | None, Depends(page_cursor)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ticker: Ticker | None = None,
    sentiment: Sentiment | None = None,
) -> ItemPage:
    """Stored items, newest first, from the last 7 days."""
    items, last = services.items.newest(limit, before=cursor, ticker=ticker, sentiment=sentiment)
    return ItemPage(items=items, next_cursor=last.encode() if last else None)


@router.post(
    "",
    response_model=IngestResult,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_ingest_key)],
    responses={
        201: INGEST_LINKS,
        200: {"model": IngestResult, "description": "Every item was a duplicate", **INGEST_LINKS},
        **NO_API_KEY,
        **UNREADABLE_BODY,
        **UNAVAILABLE,
    },
)
def ingest(
    body: IngestBody, services: ServicesDep, observability: ObservabilityDep, response: Response
) -> IngestResult:
    """Store scored items; a repeated item_id is reported as a duplicate, never counted twice."""
    items = body.items if isinstance(body, ItemBatch) else [body]
    result = services.items.ingest_many(items)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    observability.emf.add_metric(name="ItemsCreated", unit="Count", value=len(result.created))
    observability.emf.add_metric(name="ItemsDuplicate", unit="Count", value=len(result.duplicates))
    return result
