"""What intake's handlers need from the outside world, passed in explicitly."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from casereg.clock import Clock
from casereg.crypto.keystore import KeyStore
from casereg.log.store import EventLog, Head

from intake.handlers.group_commit import GroupCommit


@dataclass
class IntakeDeps:
    log: EventLog
    keys: KeyStore
    clock: Clock
    #: One in-process lock per receipt counter: concurrent submissions of one agency queue here instead of
    #: racing on the counter subject (races across processes are still resolved by the concurrency check).
    counter_locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    #: Each counter's head and number after this process's last append to it (saves a read per submission).
    counter_heads: dict[str, tuple[Head, int]] = field(default_factory=dict)
    numbering: GroupCommit = field(default_factory=GroupCommit)
