"""The page's static files: every module the page imports is preloaded from the HTML, so the
browser fetches them all at once instead of discovering them one import level at a time."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

STATIC = Path(str(files("dashboard") / "static"))
IMPORT = re.compile(r'^\s*(?:import|export)\b[^;]*?\bfrom\s+"\./([\w-]+\.js)"', re.MULTILINE)


def imported_modules() -> set[str]:
    """Every module reachable from js/app.js through static imports."""
    seen: set[str] = set()
    pending = ["app.js"]
    while pending:
        name = pending.pop()
        source = (STATIC / "js" / name).read_text()
        for imported in IMPORT.findall(source):
            if imported not in seen:
                seen.add(imported)
                pending.append(imported)
    return seen


def test_every_imported_module_is_preloaded() -> None:
    html = (STATIC / "index.html").read_text()
    preloaded = re.findall(r'<link rel="modulepreload" href="js/([\w-]+\.js)">', html)
    modules = imported_modules()
    assert len(modules) >= 8
    assert sorted(preloaded) == sorted(modules)
    assert '<script type="module" src="js/app.js"></script>' in html
    # Every file in js/ is used: nothing is preloaded for nothing.
    assert {p.name for p in (STATIC / "js").glob("*.js")} == modules | {"app.js"}


def test_page_has_no_inline_script_or_style() -> None:
    """The Content-Security-Policy allows scripts and styles from the page's own files only."""
    html = (STATIC / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
