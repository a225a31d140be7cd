"""Seals to the ledger: each signed seal on ``seal.<province>`` (stream ``seals_stream``) becomes an outbox row.

A seal is not a log commit (it is one JSON object with a gap-free ``seal_no``), so it is followed here rather than
by the projection runner: each round reads the messages after the stored position and, in one transaction,
inserts their outbox rows (kind ``seal``, record id = province, version = ``seal_no``, payload = the whole object)
and moves the position (``projection_positions`` row ``national-sync-seals``). A message that cannot be read
stops the follower at that point (logged, retried every round) rather than skipping a seal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from casereg.log.raw import RawMessage, last_sequence, subject_messages
from casereg.projections.positions import lock_position, read_position, write_position
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from national_sync.domain.mapping import SEAL
from national_sync.domain.records import NationalSeal
from national_sync.ledger import record_versions

log = logging.getLogger(__name__)

POSITION = "national-sync-seals"


def seal_subject(province: str) -> str:
    return f"seal.{province}"


def seal_payload(data: bytes) -> tuple[int, dict[str, Any]]:
    """A seal message's number and body; ValueError when it is not a seal."""
    body = json.loads(data)
    seal = NationalSeal.model_validate(body)
    return seal.seal_no, body


@dataclass
class SealFollower:
    engine: sa.Engine
    js: JetStreamContext
    stream: str
    province: str
    poll_interval: float = 1.0

    def position(self) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, POSITION)

    def _record(self, msgs: list[RawMessage], upto: int) -> None:
        with self.engine.begin() as conn:
            position = lock_position(conn, POSITION)
            rows = []
            for m in msgs:
                if m.stream_seq > position:
                    seal_no, body = seal_payload(m.data)
                    rows.append((SEAL, self.province, seal_no, body, m.stream_seq))
            record_versions(conn, rows)
            if upto > position:
                write_position(conn, POSITION, upto)

    async def step(self) -> int:
        """Record every seal after the position; returns the new position."""
        try:
            last = await last_sequence(self.js, self.stream)
        except NotFoundError:
            return 0  # the seals stream is not provisioned (yet)
        position = await asyncio.to_thread(self.position)
        if last > position:
            subject = seal_subject(self.province)
            # next-by-subject gets from the leader: exact, no consumer (a seal is rare).
            msgs = [m async for m in subject_messages(self.js, self.stream, subject, after=position, upto=last)]
            await asyncio.to_thread(self._record, msgs, last)
            return last
        return position

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.step()
            except (ValueError, KeyError) as exc:
                log.error("seals: a message on %s is not a seal (%s); retrying", self.stream, type(exc).__name__)
            except Exception:
                log.exception("seals: round failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_interval)
