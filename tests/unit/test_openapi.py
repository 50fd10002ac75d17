"""The OpenAPI document tells the truth: every status the API sends, with its body; links a
client can follow (session -> configuration -> ticket, ingest -> listing -> next page)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.unit.conftest import API_KEY
from tests.utils.factories import configuration_payload, item_payload

ERROR = {"$ref": "#/components/schemas/ErrorDetail"}
INVALID = {"$ref": "#/components/schemas/HTTPValidationError"}
# Every status each operation can answer with (the success first).
STATUSES = {
    ("get", "/health"): {"200", "503"},
    ("get", "/api/v2/runtime-config"): {"200"},
    ("get", "/api/v2/metrics"): {"200", "422", "500", "503"},
    ("get", "/api/v2/items"): {"200", "422", "500", "503"},
    ("post", "/api/v2/items"): {"201", "200", "400", "401", "422", "500", "503"},
    ("post", "/api/v2/auth/anonymous"): {"201", "500", "503"},
    ("get", "/api/v2/configurations"): {"200", "401", "500", "503"},
    ("post", "/api/v2/configurations"): {"201", "400", "401", "409", "422", "500", "503"},
    ("get", "/api/v2/configurations/{config_id}"): {"200", "401", "404", "422", "500", "503"},
    ("patch", "/api/v2/configurations/{config_id}"): {
        "200",
        "400",
        "401",
        "404",
        "422",
        "500",
        "503",
    },
    ("delete", "/api/v2/configurations/{config_id}"): {"204", "401", "404", "422", "500", "503"},
    ("post", "/api/v2/configurations/{config_id}/stream-ticket"): {
        "200",
        "401",
        "404",
        "422",
        "500",
        "503",
    },
}


@pytest.fixture
def document(dashboard: TestClient) -> dict[str, Any]:
    response = dashboard.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operation(document: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            if spec["operationId"] == operation_id:
                return method, path, spec
    raise AssertionError(f"no operation {operation_id}")


def test_every_status_the_api_sends_is_documented_with_its_body(document: dict[str, Any]) -> None:
    operations = {
        (method, path): spec
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
    }
    assert operations.keys() == STATUSES.keys()
    for key, spec in operations.items():
        responses = spec["responses"]
        assert set(responses) == STATUSES[key], key
        for status, response in responses.items():
            if status in {"200", "201", "204"} or key == ("get", "/health"):
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema == (INVALID if status == "422" else ERROR), (key, status)
        if "503" in responses and key != ("get", "/health"):
            assert "Retry-After" in responses["503"]["headers"], key
        if "401" in responses:
            assert "WWW-Authenticate" in responses["401"]["headers"], key


def test_security_schemes_cover_the_credentials(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {
        "type": "apiKey",
        "description": "The ingest API key",
        "in": "header",
        "name": "X-API-Key",
    }
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    for (method, path), statuses in STATUSES.items():
        secured = document["paths"][path][method].get("security")
        assert ("401" in statuses) == bool(secured), (method, path)


def test_an_unreadable_body_is_the_documented_400(dashboard: TestClient) -> None:
    """Bytes that are no Unicode text cannot be JSON: FastAPI's 400, as documented."""
    response = dashboard.post(
        "/api/v2/items",
        content=b'{"item_id": "\xff"}',
        headers={"X-API-Key": API_KEY, "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "There was an error parsing the body"},
    )


def test_documented_constraints(document: dict[str, Any]) -> None:
    """What the validators enforce, as the document says it (generated data is accepted)."""
    schemas = document["components"]["schemas"]
    config = schemas["ConfigurationIn"]["properties"]
    assert config["tickers"]["uniqueItems"] is True
    assert (config["tickers"]["minItems"], config["tickers"]["maxItems"]) == (1, 5)
    assert config["name"]["pattern"] == schemas["ItemIn"]["properties"]["title"]["pattern"]
    assert schemas["ConfigurationPatch"]["anyOf"] == [
        {"required": ["name"], "properties": {"name": {"type": "string"}}},
        {"required": ["tickers"], "properties": {"tickers": {"type": "array"}}},
    ]
    assert schemas["ItemIn"]["additionalProperties"] is False
    assert schemas["ItemIn"]["properties"]["tickers"]["uniqueItems"] is True
    assert "6 decimal places" in schemas["ItemIn"]["properties"]["score"]["description"]
    listing = {p["name"]: p for p in document["paths"]["/api/v2/items"]["get"]["parameters"]}
    assert listing["cursor"]["schema"]["pattern"] == "^[A-Za-z0-9_-]{1,128}$"


# --- links -----------------------------------------------------------------------------------

EMBEDDED = re.compile(r"\{(\$[^}]+)\}")


def evaluate(expression: str, request: dict[str, Any], response: Any) -> Any:
    """The runtime expressions our links use: ``$response.body#/...``, ``$request.body#/...``,
    ``$request.query.name``, and text with embedded ``{...}`` expressions."""
    if EMBEDDED.search(expression):
        return EMBEDDED.sub(lambda m: str(evaluate(m[1], request, response)), expression)
    if expression.startswith("$request.query."):
        return request.get("params", {}).get(expression.removeprefix("$request.query."))
    source, _, pointer = expression.partition("#")
    value = {"$response.body": response.json(), "$request.body": request.get("json")}[source]
    for part in pointer.strip("/").split("/"):
        if isinstance(value, list):
            value = value[int(part)] if int(part) < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
    return value


def follow(
    client: TestClient,
    document: dict[str, Any],
    link: dict[str, Any],
    request: dict[str, Any],
    response: Any,
    **extra: Any,
) -> tuple[dict[str, Any], Any]:
    """Send the request ``link`` describes (plus ``extra``: a body, the caller's credentials)."""
    method, path, _ = operation(document, link["operationId"])
    sent: dict[str, Any] = {"headers": dict(extra.pop("headers", {})), "params": {}, **extra}
    for name, expression in link["parameters"].items():
        value = evaluate(expression, request, response)
        if value is None:
            continue  # the source request had no such parameter
        where, _, key = name.partition(".")
        if where == "path":
            path = path.replace(f"{{{key}}}", value)
        else:
            sent[{"query": "params", "header": "headers"}[where]][key] = value
    return sent, client.request(method.upper(), path, **sent)


def links(document: dict[str, Any], operation_id: str, status: int) -> dict[str, Any]:
    found: dict[str, Any] = operation(document, operation_id)[2]["responses"][str(status)]["links"]
    return found


def test_every_link_targets_a_real_operation_and_parameter(document: dict[str, Any]) -> None:
    for methods in document["paths"].values():
        for spec in methods.values():
            for response in spec["responses"].values():
                for name, link in response.get("links", {}).items():
                    _, path, target = operation(document, link["operationId"])
                    declared = {(p["in"], p["name"]) for p in target.get("parameters", [])}
                    for parameter in link["parameters"]:
                        where, _, key = parameter.partition(".")
                        if (where, key) == ("header", "Authorization"):
                            assert target["security"] == [{"HTTPBearer": []}], name
                        else:
                            assert (where, key) in declared, (name, parameter, path)


def test_links_chain_session_configuration_and_ticket(
    dashboard: TestClient, document: dict[str, Any]
) -> None:
    session = dashboard.post("/api/v2/auth/anonymous")
    assert session.status_code == 201
    from_session = links(document, "create_anonymous_session", 201)

    sent, created = follow(
        dashboard,
        document,
        from_session["CreateConfiguration"],
        {},
        session,
        json=configuration_payload(name="Linked"),
    )
    assert created.status_code == 201, created.text
    bearer = {"Authorization": sent["headers"]["Authorization"]}
    assert bearer["Authorization"] == f"Bearer {session.json()['token']}"

    _, listed = follow(dashboard, document, from_session["ListConfigurations"], {}, session)
    assert [c["name"] for c in listed.json()["configurations"]] == ["Linked"]
    _, again = follow(
        dashboard,
        document,
        links(document, "list_configurations", 200)["GetConfiguration"],
        {},
        listed,
        headers=bearer,
    )
    assert again.json() == created.json()

    from_created = links(document, "create_configuration", 201)
    _, ticket = follow(
        dashboard, document, from_created["CreateStreamTicket"], {}, created, headers=bearer
    )
    assert ticket.status_code == 200, ticket.text
    assert set(ticket.json()) == {"ticket", "expires_at"}
    _, renamed = follow(
        dashboard,
        document,
        from_created["UpdateConfiguration"],
        {},
        created,
        headers=bearer,
        json={"name": "Renamed"},
    )
    assert renamed.json()["name"] == "Renamed"
    _, deleted = follow(
        dashboard, document, from_created["DeleteConfiguration"], {}, created, headers=bearer
    )
    assert deleted.status_code == 204


@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
def test_links_chain_ingest_listing_and_next_pages(
    dashboard: TestClient, document: dict[str, Any], batch: bool
) -> None:
    for n in range(3):
        dashboard.post(
            "/api/v2/items",
            json=item_payload(item_id=f"link-{n}", tickers=["LINK", "AAPL"]),
            headers={"X-API-Key": API_KEY},
        )
    dashboard.post(
        "/api/v2/items", json=item_payload(tickers=["OTHER"]), headers={"X-API-Key": API_KEY}
    )
    item = item_payload(item_id="link-3", tickers=["LINK"])
    ingest = {"json": {"items": [item]} if batch else item, "headers": {"X-API-Key": API_KEY}}
    ingested = dashboard.post("/api/v2/items", **ingest)
    assert ingested.status_code == 201

    name = "ListBatchByTicker" if batch else "ListByTicker"
    request, page = follow(
        dashboard,
        document,
        links(document, "ingest", 201)[name],
        ingest,
        ingested,
        params={"limit": 3},
    )
    seen = [i["item_id"] for i in page.json()["items"]]
    next_page = links(document, "list_items", 200)["NextPage"]
    while page.json()["next_cursor"]:
        request, page = follow(dashboard, document, next_page, request, page)
        seen += [i["item_id"] for i in page.json()["items"]]
        assert request["params"]["ticker"] == "LINK"
        assert request["params"]["limit"] == 3
    assert seen == ["link-3", "link-2", "link-1", "link-0"]
