"""Security headers and compression on both apps, over HTTP against the local stack's real
processes (the dashboard under uvicorn, the SSE app through run.sh)."""

from __future__ import annotations

import gzip
import re

import httpx
import pytest

from tests.utils.processes import RunningStack

pytestmark = pytest.mark.integration

# JSON, event streams and errors are never rendered: they may load nothing, be framed nowhere.
API_POLICY = {"default-src": "'none'", "frame-ancestors": "'none'"}


def csp(response: httpx.Response) -> dict[str, str]:
    header = response.headers["content-security-policy"]
    return dict(part.strip().partition(" ")[::2] for part in header.split(";") if part.strip())


def assert_hardened(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff", response.url
    assert response.headers["x-frame-options"] == "DENY", response.url
    assert csp(response)["frame-ancestors"] == "'none'", response.url


def page_policy(stack: RunningStack) -> dict[str, str]:
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": f"'self' {stack.sse_url}",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


@pytest.mark.parametrize("path", ["/", "/index.html"])
def test_the_page_sends_its_policy_also_when_unchanged(
    api: httpx.Client, stack: RunningStack, path: str
) -> None:
    response = api.get(path)
    assert response.status_code == 200
    assert_hardened(response)
    assert csp(response) == page_policy(stack)
    # A browser stores a 304's headers over the cached page's: it must carry the same policy.
    unchanged = api.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert unchanged.status_code == 304
    assert_hardened(unchanged)
    assert csp(unchanged) == page_policy(stack)


@pytest.mark.parametrize("path", ["/js/app.js", "/js/eventstream.js", "/styles.css"])
def test_scripts_and_styles_are_hardened_with_the_short_policy(
    api: httpx.Client, path: str
) -> None:
    response = api.get(path)
    assert response.status_code == 200
    assert_hardened(response)
    assert csp(response) == API_POLICY  # a policy acts on documents only; this one is short


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/health", 200),
        ("GET", "/api/v2/metrics", 200),
        ("GET", "/api/v2/items?limit=0", 422),
        ("GET", "/api/v2/configurations", 401),
        ("POST", "/api/v2/items", 401),
        ("GET", "/openapi.json", 200),
    ],
)
def test_dashboard_api_answers_are_locked_down(
    api: httpx.Client, method: str, path: str, status: int
) -> None:
    response = api.request(method, path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert_hardened(response)
    assert csp(response) == API_POLICY


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/health", 200),
        ("/api/v2/stream/status", 200),
        (f"/api/v2/configurations/{'0' * 32}/stream", 401),
        ("/api/v2/configurations/nope/stream", 422),
        ("/openapi.json", 200),
    ],
)
def test_sse_json_answers_are_locked_down(stack: RunningStack, path: str, status: int) -> None:
    response = httpx.get(f"{stack.sse_url}{path}", timeout=10)
    assert response.status_code == status, response.text
    assert_hardened(response)
    assert csp(response) == API_POLICY


def test_sse_streams_are_locked_down(stack: RunningStack) -> None:
    with httpx.stream("GET", f"{stack.sse_url}/api/v2/stream", timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert_hardened(response)
        assert csp(response) == API_POLICY
        # Streams are never compressed: every event must reach the page as it is sent.
        assert "content-encoding" not in response.headers
        first = next(response.iter_lines())
        assert first.startswith(("event: heartbeat", "id: ", "retry: ")), first


@pytest.mark.parametrize("app", ["dashboard", "sse"])
def test_docs_are_served_locally_with_a_hashed_inline_script(stack: RunningStack, app: str) -> None:
    base = stack.dashboard_url if app == "dashboard" else stack.sse_url
    response = httpx.get(f"{base}/docs", timeout=10)
    assert response.status_code == 200
    assert_hardened(response)
    html = response.text
    found = re.findall(r'(?:src|href)="([^"]+)"', html)
    # Nothing third-party: the app's own files, and a data: favicon on the SSE app.
    sources = [source for source in found if not source.startswith("data:")]
    assert all(source.startswith("/") for source in sources), found
    assert len(sources) >= 2, found
    policy = csp(response)
    assert policy["default-src"] == "'self'"
    # FastAPI's page starts Swagger UI with one inline script: allowed by its hash alone.
    assert re.fullmatch(r"'self' 'sha256-[A-Za-z0-9+/]{43}='", policy["script-src"]), policy
    for source in sources:
        asset = httpx.get(f"{base}{source}", timeout=10)
        assert asset.status_code == 200, source
        assert_hardened(asset)
    assert "validatorUrl" in html  # no badge from validator.swagger.io
    assert httpx.get(f"{base}/redoc", timeout=10).status_code == 404  # ReDoc comes from a CDN


COMPRESSIBLE = [
    "/",
    "/js/app.js",
    "/js/configs.js",
    "/styles.css",
    "/api/v2/metrics",
    "/openapi.json",
]


@pytest.mark.parametrize("path", COMPRESSIBLE)
def test_dashboard_gzips_page_files_and_json(api: httpx.Client, path: str) -> None:
    plain = api.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    zipped = api.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert zipped.headers["content-type"] == plain.headers["content-type"]
    # httpx decodes the body; what went over the wire is the compressed length.
    wire = len(raw_body(f"{api.base_url}{path}", {"Accept-Encoding": "gzip"}))
    assert wire < len(plain.content) * 0.6, (wire, len(plain.content))
    if path.startswith("/api/"):
        assert zipped.json().keys() == plain.json().keys()
    else:
        assert zipped.content == plain.content


def test_small_answers_are_left_uncompressed(api: httpx.Client) -> None:
    response = api.get("/health", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.json() == {"status": "ok", "dynamodb": "ok"}


def raw_body(url: str, headers: dict[str, str]) -> bytes:
    """The body exactly as the server sent it (no client-side decoding)."""
    with httpx.stream("GET", url, headers=headers, timeout=10) as response:
        assert response.status_code == 200
        return b"".join(response.iter_raw())


def test_compressed_body_is_gzip(stack: RunningStack) -> None:
    raw = raw_body(f"{stack.dashboard_url}/styles.css", {"Accept-Encoding": "gzip"})
    plain = httpx.get(f"{stack.dashboard_url}/styles.css").content
    assert raw[:2] == b"\x1f\x8b"
    assert gzip.decompress(raw) == plain
