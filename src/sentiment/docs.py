"""Swagger UI at ``/docs`` from the swagger-ui-bundle package: no CDN, so the docs work offline
and load no third-party script. FastAPI's page starts Swagger UI with one inline script; the
page's Content-Security-Policy allows exactly that script, by its hash."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from sentiment.headers import HARDENING

INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def script_hash(html: str) -> str:
    """The CSP source (``'sha256-...'``) of the page's one inline script."""
    scripts = INLINE_SCRIPT.findall(html)
    if len(scripts) != 1:
        raise ValueError(f"expected one inline script in the docs page, found {len(scripts)}")
    digest = hashlib.sha256(scripts[0].encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def install_docs(app: FastAPI, favicon_url: str = "data:,", path: str = "/docs") -> None:
    """Serve Swagger UI for ``app`` at ``path`` (build the app with ``docs_url=None`` and
    ``redoc_url=None``: FastAPI's own pages load their scripts from a CDN)."""
    assets = f"{path}/assets"
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} - API docs",
        swagger_js_url=f"{assets}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=favicon_url,
        # No badge image from validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
    html = bytes(page.body).decode()
    policy = "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {script_hash(html)}",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
    headers = {"Content-Security-Policy": policy, **HARDENING}

    @app.get(path, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)

    app.mount(assets, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
