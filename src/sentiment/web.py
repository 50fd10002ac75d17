"""FastAPI plumbing both apps share: service lookup, bearer auth, CORS, security headers and
error mapping."""

from __future__ import annotations

from typing import Annotated

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import Depends, FastAPI, HTTPException, Path, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sentiment.auth import InvalidTokenError
from sentiment.headers import SecurityHeaders, default_headers
from sentiment.models import CONFIG_ID_PATTERN
from sentiment.observability import Observability
from sentiment.request_context import CORRELATION_HEADER, RequestContext
from sentiment.secrets import SecretNotConfiguredError
from sentiment.services import Services
from sentiment.store.errors import StorageFailure, classify
from sentiment.validation_errors import public_errors

STORAGE_UNAVAILABLE = "storage is unavailable; retry shortly"
RETRY_AFTER_SECONDS = 2
# What the page and producers send (the Function URLs allow the same on AWS).
LOCAL_CORS_HEADERS = [
    "authorization",
    "content-type",
    "x-api-key",
    "last-event-id",
    CORRELATION_HEADER,
]
# DynamoDB's answers to a request it will never accept as sent.
REJECTED_AS_INVALID = frozenset(
    {
        "ValidationException",
        "ItemCollectionSizeLimitExceededException",
        "TransactionCanceledException",
    }
)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_observability(request: Request) -> Observability:
    observability: Observability = request.app.state.observability
    return observability


ServicesDep = Annotated[Services, Depends(get_services)]
ObservabilityDep = Annotated[Observability, Depends(get_observability)]
# A configuration id in a path, the same rule in both apps: a malformed one is a 422.
ConfigIdPath = Annotated[
    str, Path(pattern=CONFIG_ID_PATTERN, description="A configuration id, from create or list")
]
BearerDep = Annotated[
    HTTPAuthorizationCredentials | None,
    Depends(
        HTTPBearer(auto_error=False, description="A session token from /api/v2/auth/anonymous")
    ),
]


def unauthorized(detail: str, scheme: str = "Bearer") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, {"WWW-Authenticate": scheme})


def invalid_token(error: InvalidTokenError) -> HTTPException:
    """A 401 for a token that can never work again (RFC 6750 ``invalid_token``): the page
    discards its session on this answer only, never on a 401 that does not say so."""
    detail = str(error)
    return unauthorized(detail, f'Bearer error="invalid_token", error_description="{detail}"')


def user_from_bearer(services: Services, credentials: HTTPAuthorizationCredentials | None) -> str:
    """The user id of a valid session token, or a 401 saying what is wrong."""
    if credentials is None:
        raise unauthorized("missing bearer token")
    try:
        return services.tokens.verify_session(credentials.credentials)
    except InvalidTokenError as error:
        raise invalid_token(error) from error


def storage_failure_response(failure: StorageFailure) -> JSONResponse:
    """503 with Retry-After when retrying can help; otherwise 422 for a request storage can never
    hold, 500 for the rest."""
    if failure.transient:
        return JSONResponse(
            {"detail": STORAGE_UNAVAILABLE},
            status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    message = (
        f"storage rejected the request ({failure.code}: {failure.message}); retrying will not help"
    )
    if failure.code in REJECTED_AS_INVALID:
        # The request as sent can never be stored: the caller's to change, so a 422 shaped
        # like every other 422 (the OpenAPI document has one error body per status).
        rejected = {"type": "storage_rejected", "loc": ["body"], "msg": message}
        return JSONResponse({"detail": [rejected]}, status.HTTP_422_UNPROCESSABLE_CONTENT)
    return JSONResponse({"detail": message}, status.HTTP_500_INTERNAL_SERVER_ERROR)


def install_common(app: FastAPI, services: Services, observability: Observability) -> None:
    """State, the request's log fields, optional CORS (local stack only), security headers and
    the storage-failure mapping."""
    app.state.services = services
    app.state.observability = observability
    app.add_middleware(RequestContext, logger=observability.logger)
    origins = services.settings.CORS_ALLOWED_ORIGINS
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=LOCAL_CORS_HEADERS,
            max_age=600,
        )
    app.add_middleware(SecurityHeaders, headers=default_headers())

    async def storage_failed(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ClientError | BotoCoreError)
        failure = classify(error)
        log = {"path": request.url.path, "kind": failure.kind, "code": failure.code}
        if failure.transient:
            observability.logger.warning("storage unavailable", extra=log)
        else:
            observability.logger.exception("storage rejected the request", extra=log)
        return storage_failure_response(failure)

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
