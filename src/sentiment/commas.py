"""Comma-separated lists, as environment variables and query strings spell them."""

from __future__ import annotations


def comma_parts(*texts: str) -> list[str]:
    """The non-blank parts of ``texts``, stripped: ``"AAPL, MSFT,,"`` -> ``["AAPL", "MSFT"]``."""
    return [part.strip() for text in texts for part in text.split(",") if part.strip()]
