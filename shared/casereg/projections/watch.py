"""Waiting, inside one process, for a projection to reach a stream position (no polling of the database)."""

from __future__ import annotations

import asyncio
import contextlib


class PositionWatch:
    """The last position a projection runner committed, and awaitable thresholds on it."""

    def __init__(self) -> None:
        self.position = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    def advance(self, position: int) -> None:
        if position <= self.position:
            return
        self.position = position
        still = []
        for target, future in self._waiters:
            if target <= position:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((target, future))
        self._waiters = still

    @property
    def waiting(self) -> int:
        """How many callers are waiting for a position not reached yet."""
        return sum(1 for _, future in self._waiters if not future.done())

    async def wait_for(self, target: int, within: float) -> bool:
        """True once the position is at or past ``target``; False after ``within`` seconds."""
        if self.position >= target:
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(future, within)
        self._waiters = [(t, f) for t, f in self._waiters if f is not future]
        return self.position >= target
