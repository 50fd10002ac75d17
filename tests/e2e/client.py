"""A client for one deployment, configured only by its two URLs (and an API key for writes).

Stream paths go to the SSE Lambda URL (RESPONSE_STREAM); everything else goes to the
Dashboard Lambda URL (BUFFERED): a stream sent to the buffered URL would time out instead of
streaming. Trailing slashes, as Terraform outputs them, are stripped.

Tests that write run only with E2E_WRITES=1 (see conftest.py) and need INGEST_API_KEY; without
it they fail, saying where the key is.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

STREAM_PATH = re.compile(r"^/api/v2/(stream(/.*)?|configurations/[^/]+/stream)$")
# Cold starts: retry connection failures and gateway errors a bounded number of times.
RETRY_STATUSES = {502, 503, 504}
RETRY_DELAYS = (0.5, 1, 2, 4, 8)


MISSING_INGEST_KEY = (
    "INGEST_API_KEY is not set, so the tests that write cannot run. It is the deployment's "
    "ingest_api_key in infrastructure/terraform/terraform.tfvars (or TF_VAR_ingest_api_key), "
    "also stored in SSM: `aws ssm get-parameter --with-decryption --query Parameter.Value "
    '--output text --name "$(terraform output -raw ingest_api_key_parameter_name)"` in '
    "infrastructure/terraform; make deploy-check reads it from there itself. Set "
    "E2E_WRITES=0 for a read-only run, which leaves the tests that write out."
)


class MissingTargetError(RuntimeError):
    pass


def required_url(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingTargetError(
            f"{name} is not set. The E2E suite runs against a deployment given by "
            "DASHBOARD_URL and SSE_LAMBDA_URL (e.g. the terraform outputs "
            "dashboard_function_url and sse_lambda_function_url), or use `make e2e` to run it "
            "against a local stack."
        )
    return value.rstrip("/")


@dataclass
class Deployment:
    dashboard_url: str
    sse_url: str
    api_key: str | None

    @classmethod
    def from_environment(cls) -> Deployment:
        return cls(
            dashboard_url=required_url("DASHBOARD_URL"),
            sse_url=required_url("SSE_LAMBDA_URL"),
            api_key=os.environ.get("INGEST_API_KEY") or None,
        )

    def url(self, path: str, *, sse: bool = False) -> str:
        """Stream paths (or ``sse=True``, e.g. the SSE app's /health) go to the SSE URL."""
        streaming = sse or STREAM_PATH.match(path.split("?")[0])
        return f"{self.sse_url if streaming else self.dashboard_url}{path}"

    def request(
        self, method: str, path: str, *, sse: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """One call, retried on connection errors and 502/503/504 (cold starts)."""
        kwargs.setdefault("timeout", 30)
        for delay in (*RETRY_DELAYS, None):
            try:
                response = httpx.request(method, self.url(path, sse=sse), **kwargs)
                if response.status_code not in RETRY_STATUSES or delay is None:
                    return response
            except httpx.TransportError:
                if delay is None:
                    raise
            time.sleep(delay)
        raise AssertionError("unreachable")

    def get(self, path: str, *, sse: bool = False, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, sse=sse, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def ingest(self, *items: dict[str, Any]) -> dict[str, Any]:
        assert self.api_key, "INGEST_API_KEY is needed for tests that write"
        response = self.post(
            "/api/v2/items", json={"items": list(items)}, headers={"X-API-Key": self.api_key}
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result
