"""FastAPI plumbing both apps share: service lookup, bearer auth, CORS and error mapping."""

from __future__ import annotations

from typing import Annotated

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sentiment.auth import InvalidTokenError
from sentiment.observability import Observability
from sentiment.secrets import SecretNotConfiguredError
from sentiment.services import Services
from sentiment.validation_errors import public_errors

STORAGE_UNAVAILABLE = "storage is unavailable; retry shortly"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_observability(request: Request) -> Observability:
    observability: Observability = request.app.state.observability
    return observability


ServicesDep = Annotated[Services, Depends(get_services)]
ObservabilityDep = Annotated[Observability, Depends(get_observability)]
BearerDep = Annotated[
    HTTPAuthorizationCredentials | None,
    Depends(
        HTTPBearer(auto_error=False, description="A session token from /api/v2/auth/anonymous")
    ),
]


def unauthorized(detail: str, scheme: str = "Bearer") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, {"WWW-Authenticate": scheme})


def user_from_bearer(services: Services, credentials: HTTPAuthorizationCredentials | None) -> str:
    """The user id of a valid session token, or a 401 saying what is wrong."""
    if credentials is None:
        raise unauthorized("missing bearer token")
    try:
        return services.tokens.verify_session(credentials.credentials)
    except InvalidTokenError as error:
        raise unauthorized(str(error)) from error


def install_common(app: FastAPI, services: Services, observability: Observability) -> None:
    """State, optional CORS (local stack only) and the storage-failure mapping."""
    app.state.services = services
    app.state.observability = observability
    origins = services.settings.CORS_ALLOWED_ORIGINS
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type", "x-api-key", "last-event-id"],
            max_age=600,
        )

    async def storage_failed(request: Request, error: Exception) -> JSONResponse:
        observability.logger.exception("storage call failed", extra={"path": request.url.path})
        return JSONResponse(
            {"detail": STORAGE_UNAVAILABLE},
            status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "2"},
        )

    async def misconfigured(request: Request, error: Exception) -> JSONResponse:
        observability.logger.error(str(error))
        return JSONResponse(
            {"detail": "service is not configured"}, status.HTTP_503_SERVICE_UNAVAILABLE
        )

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        detail = public_errors(error.errors())
        return JSONResponse({"detail": detail}, status.HTTP_422_UNPROCESSABLE_CONTENT)

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(ClientError, storage_failed)
    app.add_exception_handler(BotoCoreError, storage_failed)
    app.add_exception_handler(SecretNotConfiguredError, misconfigured)
