from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status

from dashboard.routes.responses import (
    CONFIGURATION_LINKS,
    FIRST_CONFIGURATION_LINKS,
    NO_SESSION,
    NOT_FOUND,
    TOO_MANY,
    UNAVAILABLE,
    UNREADABLE_BODY,
    operation_id,
)
from sentiment.models import (
    MAX_CONFIGURATIONS_PER_USER,
    Configuration,
    ConfigurationIn,
    ConfigurationList,
    ConfigurationPatch,
    StreamTicket,
)
from sentiment.store import ConfigurationLimitError, ConfigurationNotFoundError
from sentiment.web import BearerDep, ConfigIdPath, ServicesDep, user_from_bearer

router = APIRouter(
    prefix="/api/v2/configurations",
    tags=["configurations"],
    responses={**NO_SESSION, **UNAVAILABLE},
    generate_unique_id_function=operation_id,
)


def current_user(services: ServicesDep, credentials: BearerDep) -> str:
    return user_from_bearer(services, credentials)


CurrentUser = Annotated[str, Depends(current_user)]


def not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "configuration not found")


@router.get("", response_model=ConfigurationList, responses={200: FIRST_CONFIGURATION_LINKS})
def list_configurations(services: ServicesDep, user_id: CurrentUser) -> ConfigurationList:
    """The caller's configurations, oldest first."""
    return ConfigurationList(configurations=services.configurations.list(user_id))


@router.post(
    "",
    response_model=Configuration,
    status_code=status.HTTP_201_CREATED,
    responses={201: CONFIGURATION_LINKS, **TOO_MANY, **UNREADABLE_BODY},
)
def create_configuration(
    body: ConfigurationIn, services: ServicesDep, user_id: CurrentUser
) -> Configuration:
    """A new named watch list of up to five tickers."""
    try:
        return services.configurations.create(user_id, body)
    except ConfigurationLimitError as error:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"at most {MAX_CONFIGURATIONS_PER_USER} configurations per user; delete one first",
        ) from error


@router.get(
    "/{config_id}", response_model=Configuration, responses={200: CONFIGURATION_LINKS, **NOT_FOUND}
)
def get_configuration(
    config_id: ConfigIdPath, services: ServicesDep, user_id: CurrentUser
) -> Configuration:
    """One of the caller's configurations."""
    try:
        return services.configurations.get(user_id, config_id)
    except ConfigurationNotFoundError as error:
        raise not_found() from error


@router.patch(
    "/{config_id}",
    response_model=Configuration,
    responses={200: CONFIGURATION_LINKS, **NOT_FOUND, **UNREADABLE_BODY},
)
def update_configuration(
    config_id: ConfigIdPath, body: ConfigurationPatch, services: ServicesDep, user_id: CurrentUser
) -> Configuration:
    """Rename a configuration and/or replace its tickers."""
    try:
        return services.configurations.update(user_id, config_id, body)
    except ConfigurationNotFoundError as error:
        raise not_found() from error


@router.delete("/{config_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_configuration(
    config_id: ConfigIdPath, services: ServicesDep, user_id: CurrentUser
) -> Response:
    """Delete a configuration."""
    try:
        services.configurations.delete(user_id, config_id)
    except ConfigurationNotFoundError as error:
        raise not_found() from error
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{config_id}/stream-ticket", response_model=StreamTicket, responses=NOT_FOUND)
def create_stream_ticket(
    config_id: ConfigIdPath, services: ServicesDep, user_id: CurrentUser
) -> StreamTicket:
    """A short-lived ticket for this configuration's stream (`?ticket=` on the SSE URL)."""
    try:
        services.configurations.get(user_id, config_id)
    except ConfigurationNotFoundError as error:
        raise not_found() from error
    return services.tokens.issue_ticket(user_id, config_id)
