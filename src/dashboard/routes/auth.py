from __future__ import annotations

from fastapi import APIRouter, status

from sentiment.models import Session
from sentiment.web import ObservabilityDep, ServicesDep

router = APIRouter(prefix="/api/v2/auth", tags=["auth"])


@router.post("/anonymous", response_model=Session, status_code=status.HTTP_201_CREATED)
def create_anonymous_session(services: ServicesDep, observability: ObservabilityDep) -> Session:
    """A new anonymous user and a signed session token for it."""
    session = services.tokens.issue_session()
    observability.metrics.add_metric(name="SessionsCreated", unit="Count", value=1)
    return session
