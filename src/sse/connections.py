"""Caps open streams in this process; each stream holds one slot for its whole life.

On Lambda each stream holds a whole execution environment, so the real cap across
environments is the function's reserved concurrency; this cap matters wherever one process
serves many streams (the local stack, a container).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable


class Slot:
    """One open stream's claim on capacity; :meth:`release` is safe to call any number of times."""

    def __init__(self, give_back: Callable[[], None]) -> None:
        self._give_back: Callable[[], None] | None = give_back
        self.connection_id = uuid.uuid4().hex[:12]

    def release(self) -> bool:
        """Give the slot back; True only the first time."""
        give_back, self._give_back = self._give_back, None
        if give_back is None:
            return False
        give_back()
        return True


class ConnectionManager:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._active = 0
        self.rejected = 0

    @property
    def active(self) -> int:
        return self._active

    @property
    def available(self) -> int:
        return self.limit - self._active

    def try_acquire(self) -> Slot | None:
        """A slot, or None when full. Check and increment happen with no await between them,
        so concurrent requests on the event loop can never overshoot the limit."""
        if self._active >= self.limit:
            self.rejected += 1
            return None
        self._active += 1
        return Slot(self._give_back)

    def _give_back(self) -> None:
        self._active -= 1
