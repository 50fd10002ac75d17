"""Caps open streams in this process; each stream holds one slot for its whole life.

On Lambda each stream holds a whole execution environment, so the real cap across
environments is the function's reserved concurrency; this cap matters wherever one process
serves many streams (the local stack, a container).
"""

from __future__ import annotations

import uuid


class Slot:
    """One open stream's claim on capacity; :meth:`release` is safe to call any number of times."""

    def __init__(self, manager: ConnectionManager) -> None:
        self._manager: ConnectionManager | None = manager
        self.connection_id = uuid.uuid4().hex[:12]

    @property
    def held(self) -> bool:
        return self._manager is not None

    def release(self) -> bool:
        """Give the slot back; True only the first time."""
        manager, self._manager = self._manager, None
        if manager is None:
            return False
        manager._active -= 1
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
        return Slot(self)
