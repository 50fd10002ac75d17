"""Reading the items listing back page by page, as a client follows its cursor."""

from __future__ import annotations

from typing import Any

from sentiment.models import Item
from sentiment.positions import Position
from sentiment.store import ItemStore


def ids(items: list[Item]) -> list[str]:
    return [item.item_id for item in items]


def walk(store: ItemStore, limit: int, **filters: Any) -> list[list[str]]:
    """Every page of ``newest`` from the top, following each returned position."""
    pages: list[list[str]] = []
    before: Position | None = None
    while True:
        items, before = store.newest(limit, before=before, **filters)
        pages.append(ids(items))
        if before is None:
            return pages
        assert len(pages) < 200, "pagination does not terminate"
