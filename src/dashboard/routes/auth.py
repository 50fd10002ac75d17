from __future__ import annotations

from fastapi import APIRouter, status

from dashboard.routes.responses import SESSION_LINKS, UNAVAILABLE, operation_id
from sentiment.models import Session
from sentiment.web import ObservabilityDep, ServicesDep

router = APIRouter(prefix="/api/v2/auth", tags=["auth"], generate_unique_id_function=operation_id)


@router.post(
    "/anonymous",
    response_model=Session,
    status_code=status.HTTP_201_CREATED,
    responses={201: SESSION_LINKS, **UNAVAILABLE},
)
def create_anonymous_session(services: ServicesDep, observability: ObservabilityDep) -> Session:
    """A new anonymous user and a signed session token for it."""
    session = services.tokens.issue_session()
    observability.emf.add_metric(name="SessionsCreated", unit="Count", value=1)
    return session
