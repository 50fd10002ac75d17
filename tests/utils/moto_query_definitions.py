"""moto server, plus the three CloudWatch Logs calls of saved Logs Insights queries.

moto implements neither ``PutQueryDefinition``, ``DescribeQueryDefinitions`` nor
``DeleteQueryDefinition`` (its IMPLEMENTATION_COVERAGE.md lists all three unchecked, 5.2.5 and
its main branch of August 2026), and ``terraform apply`` of ``aws_cloudwatch_query_definition``
against it retries a 500 "put_query_definition action has not been implemented" until it gives
up. These three handlers store what they are given and return it, the way the API does, so the
Terraform tests can apply the module and read every saved query back (name, log groups, query
string). They stand in for the API only: whether CloudWatch Logs accepts a query's syntax is not
something moto, or this, can show (tests/unit/test_monitoring.py checks the fields they name).

Run as ``python -m tests.utils.moto_query_definitions -H 127.0.0.1 -p PORT`` (moto.server's
arguments), from the repository root.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any

from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
from moto.logs.responses import LogsResponse
from moto.server import main as moto_main


def _store(response: LogsResponse) -> dict[str, dict[str, Any]]:
    """This account and region's saved queries (on moto's backend, so a reset clears them)."""
    backend = response.logs_backend
    store: dict[str, dict[str, Any]] = backend.__dict__.setdefault("query_definitions", {})
    return store


def _required(response: LogsResponse, name: str, limit: int) -> str:
    value = response._get_param(name)
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise InvalidParameterException(
            constraint=f"Minimum length of 1. Maximum length of {limit}.",
            parameter=name,
            value=str(value),
        )
    return value


def put_query_definition(self: LogsResponse) -> str:
    store = _store(self)
    query_id = self._get_param("queryDefinitionId") or str(uuid.uuid4())
    if self._get_param("queryDefinitionId") and query_id not in store:
        raise ResourceNotFoundException("The specified query definition does not exist.")
    store[query_id] = {
        "queryDefinitionId": query_id,
        "name": _required(self, "name", 255),
        "queryString": _required(self, "queryString", 10000),
        "logGroupNames": self._get_param("logGroupNames") or [],
        "lastModified": int(time.time() * 1000),
    }
    return json.dumps({"queryDefinitionId": query_id})


def describe_query_definitions(self: LogsResponse) -> str:
    prefix = self._get_param("queryDefinitionNamePrefix") or ""
    found = [d for d in _store(self).values() if d["name"].startswith(prefix)]
    return json.dumps({"queryDefinitions": sorted(found, key=lambda d: d["name"])})


def delete_query_definition(self: LogsResponse) -> str:
    if _store(self).pop(self._get_param("queryDefinitionId"), None) is None:
        raise ResourceNotFoundException("The specified query definition does not exist.")
    return json.dumps({"success": True})


def install() -> None:
    LogsResponse.put_query_definition = put_query_definition  # type: ignore[attr-defined]
    LogsResponse.describe_query_definitions = describe_query_definitions  # type: ignore[attr-defined]
    LogsResponse.delete_query_definition = delete_query_definition  # type: ignore[attr-defined]


if __name__ == "__main__":
    install()
    moto_main(sys.argv[1:])
