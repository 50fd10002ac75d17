"""Security headers, compression and the local API docs of the dashboard app, in process."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from sentiment.docs import script_hash
from sentiment.headers import API_POLICY, SecurityHeaders, default_headers, origin_of, page_policy


def test_origin_of_absolute_urls_only() -> None:
    assert origin_of("https://abc.lambda-url.us-east-1.on.aws/") == (
        "https://abc.lambda-url.us-east-1.on.aws"
    )
    assert origin_of("http://127.0.0.1:8001/api") == "http://127.0.0.1:8001"
    assert origin_of("") is None
    assert origin_of("/relative") is None
    assert origin_of("javascript:alert(1)") is None


def test_page_policy_allows_the_sse_origin_to_be_fetched() -> None:
    policy = page_policy(["https://sse.example"])
    assert "connect-src 'self' https://sse.example" in policy
    assert "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "connect-src 'self';" in page_policy([])


def test_middleware_fills_in_but_never_overrides() -> None:
    app = FastAPI()

    @app.get("/plain")
    def plain() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/own")
    def own() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/custom")
    def custom() -> JSONResponse:
        return JSONResponse({}, headers={"Content-Security-Policy": "default-src 'self'"})

    app.add_middleware(SecurityHeaders, headers=default_headers())
    with TestClient(app) as client:
        plain_answer = client.get("/plain")
        custom_answer = client.get("/custom")
        missing = client.get("/nowhere")
    assert plain_answer.headers["content-security-policy"] == API_POLICY
    assert plain_answer.headers["x-content-type-options"] == "nosniff"
    assert plain_answer.headers["x-frame-options"] == "DENY"
    assert custom_answer.headers["content-security-policy"] == "default-src 'self'"
    assert custom_answer.headers["x-frame-options"] == "DENY"
    assert missing.status_code == 404
    assert missing.headers["content-security-policy"] == API_POLICY


def test_script_hash_is_the_csp_hash_of_the_one_inline_script() -> None:
    html = '<script src="/a.js"></script><script>\nrun();\n</script>'
    expected = base64.b64encode(hashlib.sha256(b"\nrun();\n").digest()).decode()
    assert script_hash(html) == f"'sha256-{expected}'"
    with pytest.raises(ValueError, match="found 2"):
        script_hash("<script>a</script><script>b</script>")


def test_dashboard_docs_page_and_assets(dashboard: TestClient) -> None:
    page = dashboard.get("/docs")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    inline = re.search(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert inline
    digest = base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in policy
    assert '"validatorUrl": null' in page.text
    assert 'href="/favicon.svg"' in page.text
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        answer = dashboard.get(asset)
        assert answer.status_code == 200, asset
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert "SwaggerUIBundle" in dashboard.get("/docs/assets/swagger-ui-bundle.js").text
    assert dashboard.get("/redoc").status_code == 404


def test_page_policy_names_the_configured_sse_origin(dashboard: TestClient) -> None:
    page = dashboard.get("/")
    assert page.status_code == 200
    assert "connect-src 'self' http://127.0.0.1:8001;" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-cache"
