"""The OpenAPI side of the routes: every error answer with its body and headers, operation ids
that read well, and the links that let a client (or a fuzzer's stateful phase) chain calls:
session -> configuration -> stream ticket, and ingest -> listing -> next page by cursor."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from sentiment.models import MAX_CONFIGURATIONS_PER_USER, ErrorDetail

Responses = dict[int | str, dict[str, Any]]


def operation_id(route: APIRoute) -> str:
    """The handler's name (``create_configuration``), which the links below refer to."""
    return route.name


def _error(description: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"model": ErrorDetail, "description": description}
    if headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


UNAVAILABLE: Responses = {
    500: _error(
        "Storage refused the request for good (a missing table, no permission): `storage "
        "rejected the request (<code>: <message>); retrying will not help`"
    ),
    503: _error(
        "Storage is unavailable for now (retry after `Retry-After` seconds), or the service "
        "is not configured",
        {"Retry-After": "Seconds to wait before retrying (storage failures only)"},
    ),
}
UNREADABLE_BODY: Responses = {
    400: _error("The body is not text in a Unicode encoding, so it cannot be read as JSON")
}
NO_SESSION: Responses = {
    401: _error(
        "No valid session token: missing, malformed, expired or not ours",
        {"WWW-Authenticate": "`Bearer`"},
    )
}
NO_API_KEY: Responses = {
    401: _error("No valid `X-API-Key` header", {"WWW-Authenticate": '`ApiKey header="X-API-Key"`'})
}
NOT_FOUND: Responses = {404: _error("No such configuration for this user")}
TOO_MANY: Responses = {
    409: _error(f"Already {MAX_CONFIGURATIONS_PER_USER} configurations: delete one first")
}


def _links(**links: dict[str, Any]) -> dict[str, Any]:
    return {"links": links}


def _to_configuration(config_id: str) -> dict[str, Any]:
    """Links from a response carrying a configuration id to what can be done with it."""
    parameters = {"path.config_id": config_id}
    return _links(
        GetConfiguration={"operationId": "get_configuration", "parameters": parameters},
        UpdateConfiguration={"operationId": "update_configuration", "parameters": parameters},
        DeleteConfiguration={"operationId": "delete_configuration", "parameters": parameters},
        CreateStreamTicket={"operationId": "create_stream_ticket", "parameters": parameters},
    )


BEARER_FROM_SESSION = "Bearer {$response.body#/token}"
SESSION_LINKS = _links(
    CreateConfiguration={
        "operationId": "create_configuration",
        "parameters": {"header.Authorization": BEARER_FROM_SESSION},
        "description": "The token is the bearer of the new user's configuration calls",
    },
    ListConfigurations={
        "operationId": "list_configurations",
        "parameters": {"header.Authorization": BEARER_FROM_SESSION},
    },
)
CONFIGURATION_LINKS = _to_configuration("$response.body#/config_id")
FIRST_CONFIGURATION_LINKS = _to_configuration("$response.body#/configurations/0/config_id")
INGEST_LINKS = _links(
    ListByTicker={
        "operationId": "list_items",
        "parameters": {"query.ticker": "$request.body#/tickers/0"},
        "description": "The newest items naming the (first) ticker of the item just sent",
    },
    ListBatchByTicker={
        "operationId": "list_items",
        "parameters": {"query.ticker": "$request.body#/items/0/tickers/0"},
        "description": "The same for a batch: its first item's first ticker",
    },
)
NEXT_PAGE_LINKS = _links(
    NextPage={
        "operationId": "list_items",
        "parameters": {
            "query.cursor": "$response.body#/next_cursor",
            "query.limit": "$request.query.limit",
            "query.ticker": "$request.query.ticker",
            "query.sentiment": "$request.query.sentiment",
        },
        "description": "The next, older page with the same filters",
    }
)
