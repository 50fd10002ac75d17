"""Builds the dashboard FastAPI app; no work happens at import time."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.types import Scope

from dashboard.routes import auth, configurations, health, items, metrics
from sentiment.docs import install_docs
from sentiment.headers import origin_of, page_policy
from sentiment.observability import Observability, create_observability
from sentiment.services import Services, build_services
from sentiment.settings import Settings
from sentiment.web import install_common

# Answers smaller than this gain little from gzip (the headers alone are a few hundred bytes).
GZIP_MINIMUM_BYTES = 500
# zlib's default: within 1-2% of level 9 on the page's files, at a fraction of the CPU.
GZIP_LEVEL = 6


class PageFiles(StaticFiles):
    """The page's files, revalidated on every load so a deploy never mixes old and new modules
    (they are small, and ETags make an unchanged file a 304). The HTML carries the page's CSP;
    scripts and styles keep the short default (a policy only acts on documents, and its bytes
    would ride on every 304)."""

    def __init__(self, *, policy: str, **options: Any) -> None:
        super().__init__(**options)
        self.policy = policy

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        # 304s too: a browser stores the headers of a 304 over those of the cached page.
        if path in ("", ".") or path.endswith(".html"):
            response.headers["Content-Security-Policy"] = self.policy
        return response


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    observability: Observability | None = None,
) -> FastAPI:
    """The REST API under ``/api/v2`` and the dashboard page at ``/``."""
    settings = settings or (services.settings if services else Settings())
    services = services or build_services(settings)
    observability = observability or create_observability("dashboard", settings)

    app = FastAPI(
        title="Sentiment dashboard API",
        version="2",
        description="Metrics, items, ingest, anonymous sessions and configurations. "
        "Live streams are served by the SSE Lambda (see /api/v2/runtime-config).",
        docs_url=None,  # install_docs serves Swagger UI locally, ReDoc would need a CDN
        redoc_url=None,
    )
    install_common(app, services, observability)
    # Function URLs pass Content-Encoding through; Mangum returns the gzip bytes base64-encoded.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    install_docs(app, favicon_url="/favicon.svg")
    for module in (health, metrics, items, auth, configurations):
        app.include_router(module.router)
    sse_origin = origin_of(settings.SSE_URL)
    policy = page_policy([sse_origin] if sse_origin else [])
    static = files("dashboard") / "static"
    page = PageFiles(directory=str(static), html=True, policy=policy)
    app.mount("/", page, name="static")
    return app
