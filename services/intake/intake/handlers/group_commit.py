"""Group commit: callers queue per key; one writer at a time takes everything queued and writes it at once."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

#: At most this many items per group (JetStream atomic batches are kept well under the server's limits).
MAX_GROUP = 40

Writer = Callable[[list[Any]], Awaitable[list[Any] | None]]


class GroupCommit:
    def __init__(self, max_group: int = MAX_GROUP) -> None:
        self.max_group = max_group
        self._queues: defaultdict[str, list[tuple[Any, asyncio.Future[Any]]]] = defaultdict(list)
        self._flushers: dict[str, asyncio.Task[None]] = {}

    async def enqueue(self, key: str, item: Any, writer: Writer) -> Any:
        """The writer's result for ``item`` (``None`` when its group could not be written as a group)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queues[key].append((item, future))
        flusher = self._flushers.get(key)
        if flusher is None or flusher.done():
            self._flushers[key] = asyncio.create_task(self._flush(key, writer))
        return await future

    async def _flush(self, key: str, writer: Writer) -> None:
        queue = self._queues[key]
        while queue:
            group = queue[: self.max_group]
            del queue[: self.max_group]
            try:
                results = await writer([item for item, _ in group])
            except BaseException as exc:
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for i, (_, future) in enumerate(group):
                if not future.done():
                    future.set_result(None if results is None else results[i])
