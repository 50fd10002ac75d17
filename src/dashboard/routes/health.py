from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter, Response, status

from dashboard.routes.responses import operation_id
from sentiment.models import Health, RuntimeConfig
from sentiment.web import ObservabilityDep, ServicesDep

router = APIRouter(tags=["service"], generate_unique_id_function=operation_id)


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(services: ServicesDep, observability: ObservabilityDep, response: Response) -> Health:
    """Liveness plus a DynamoDB reachability check."""
    try:
        services.check_storage()
    except (ClientError, BotoCoreError) as error:
        observability.logger.warning(
            "health check: DynamoDB unreachable", extra={"error": str(error)}
        )
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="unavailable", dynamodb="unreachable")
    return Health(status="ok", dynamodb="ok")


@router.get("/api/v2/runtime-config", response_model=RuntimeConfig)
def runtime_config(services: ServicesDep) -> RuntimeConfig:
    """How the page finds the SSE Lambda."""
    settings = services.settings
    return RuntimeConfig(sse_url=settings.SSE_URL.rstrip("/"), environment=settings.ENVIRONMENT)
