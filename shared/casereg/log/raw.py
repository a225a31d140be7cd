"""Raw stored messages: read without decoding, for ``verify``, ``export`` and whole-stream replays."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, ReplayPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError


@dataclass(frozen=True)
class RawMessage:
    stream_seq: int
    subject: str
    data: bytes
    time: str | None = None


async def subject_messages(
    js: JetStreamContext, stream: str, subject: str, after: int = 0, upto: int | None = None
) -> AsyncIterator[RawMessage]:
    """One aggregate's messages via ``next_by_subj`` gets from the leader; creates no consumer."""
    seq = after + 1
    while True:
        try:
            m = await js.get_msg(stream, seq=seq, subject=subject, next=True)
        except NotFoundError:
            return
        assert m.seq is not None
        if upto is not None and m.seq > upto:
            return
        # nats-py parses the stored timestamp into a datetime; RawMessage keeps text (as ``replay`` does).
        stamp = m.time.isoformat() if isinstance(m.time, datetime) else m.time
        yield RawMessage(stream_seq=m.seq, subject=m.subject or subject, data=m.data or b"", time=stamp)
        seq = m.seq + 1


async def last_sequence(js: JetStreamContext, stream: str) -> int:
    info = await js.stream_info(stream)
    return int(info.state.last_seq)


async def replay(
    js: JetStreamContext,
    stream: str,
    *,
    subjects: list[str] | None = None,
    start_seq: int = 1,
    stop_seq: int | None = None,
    batch: int = 1000,
) -> AsyncIterator[RawMessage]:
    """Every message from ``start_seq`` up to ``stop_seq`` (default: the last one now), in stream order.

    Uses one ephemeral pull consumer without acks, deleted explicitly at the end (and by the server after a
    minute of inactivity if this process dies).
    """
    stop = stop_seq if stop_seq is not None else await last_sequence(js, stream)
    if stop < start_seq:
        return
    name = f"replay_{uuid.uuid4().hex}"
    config = ConsumerConfig(
        name=name,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=max(start_seq, 1),
        ack_policy=AckPolicy.NONE,
        replay_policy=ReplayPolicy.INSTANT,
        inactive_threshold=60.0,
        mem_storage=True,
        filter_subjects=subjects or None,
        max_waiting=1,
    )
    await js.add_consumer(stream, config)
    sub = await js.pull_subscribe_bind(durable=name, stream=stream)
    try:
        while True:
            try:
                msgs = await sub.fetch(batch, timeout=2.0)
            except (nats.errors.TimeoutError, TimeoutError):
                # Nothing left within the filter before ``stop``: the range is exhausted.
                return
            for msg in msgs:
                meta = msg.metadata
                seq = meta.sequence.stream
                if seq > stop:
                    return
                stamp = meta.timestamp.isoformat() if meta.timestamp else None
                yield RawMessage(stream_seq=seq, subject=msg.subject, data=msg.data, time=stamp)
                if seq == stop or meta.num_pending == 0:
                    return
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(stream, name)
