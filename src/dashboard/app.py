"""Builds the dashboard FastAPI app; no work happens at import time."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from dashboard.routes import auth, configurations, health, items, metrics
from sentiment.observability import Observability, create_observability
from sentiment.services import Services, build_services
from sentiment.settings import Settings
from sentiment.web import install_common


class PageFiles(StaticFiles):
    """The page's files, revalidated on every load so a deploy never mixes old and new modules
    (they are small, and ETags make an unchanged file a 304)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
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
    )
    install_common(app, services, observability)
    for module in (health, metrics, items, auth, configurations):
        app.include_router(module.router)
    static = files("dashboard") / "static"
    app.mount("/", PageFiles(directory=str(static), html=True), name="static")
    return app
