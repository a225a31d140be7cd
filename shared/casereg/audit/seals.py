"""Seals: signed Merkle roots over the heads of every aggregate changed since the previous seal (DESIGN §2).

A seal is one JSON object on ``seal.<province>`` in its own stream (``PlatformSettings.seals_stream``), appended
with ``Nats-Expected-Last-Subject-Sequence`` so two sealers cannot fork the chain. Its fields (``docs/audit.md``):
``format``, ``province``, ``seal_no`` (1, 2, 3... without gaps), ``prev_seal_hash``, ``stream``, ``from_seq`` and
``to_seq`` (the log range it covers), ``heads`` (``subject``, ``stream_seq``, ``hash`` of each aggregate's last
message in that range), ``merkle_root``, ``signed_at``, ``key_id`` and ``signature`` (Ed25519, base64, over the
canonical JSON of everything else). The checks live in :mod:`casereg_verify.verify`, which auditors run offline.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import nats.errors
from casereg_verify import verify as offline
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nats.aio.client import Client as NATS
from nats.js.client import JetStreamContext
from nats.js.errors import APIError, NotFoundError
from opentelemetry import trace
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from casereg.clock import Clock, SystemClock
from casereg.log.canonical import format_time
from casereg.log.provision import seal_subject
from casereg.log.raw import RawMessage, last_sequence, replay
from casereg.log.store import WRONG_LAST_SEQUENCE
from casereg.settings import PlatformSettings

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)
Seal = dict[str, Any]


def signing_key(settings: PlatformSettings) -> Ed25519PrivateKey:
    """The province's key, derived deterministically: Ed25519 seed = sha256(CASEREG_SEAL_KEY)."""
    seed = hashlib.sha256(settings.seal_key.get_secret_value().encode("utf-8")).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_raw(settings: PlatformSettings) -> bytes:
    return signing_key(settings).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(settings: PlatformSettings) -> str:
    pem = (
        signing_key(settings)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return pem.decode("ascii")


def sign(settings: PlatformSettings, body: Seal) -> Seal:
    """``body`` (every field but the signature) with its ``key_id`` and ``signature``."""
    unsigned = {**body, "key_id": offline.key_id(public_key_raw(settings))}
    signature = signing_key(settings).sign(offline.seal_signed_bytes(unsigned))
    return {**unsigned, "signature": base64.b64encode(signature).decode("ascii")}


def heads_of(messages: Iterable[RawMessage]) -> dict[str, tuple[int, str]]:
    """subject -> (stream_seq, head hash) of the last message of each aggregate among ``messages``."""
    return {m.subject: (m.stream_seq, offline.head_hash(m.data)) for m in messages}


def build_seal(
    settings: PlatformSettings, previous: Seal | None, to_seq: int, heads: dict[str, tuple[int, str]], clock: Clock
) -> Seal:
    rows = [{"subject": s, "stream_seq": n, "hash": h} for s, (n, h) in sorted(heads.items())]
    body: Seal = {
        "format": offline.SEAL_FORMAT,
        "province": settings.province,
        "seal_no": 1 if previous is None else int(previous["seal_no"]) + 1,
        "prev_seal_hash": offline.seal_genesis(settings.province) if previous is None else offline.seal_hash(previous),
        "stream": settings.stream,
        "from_seq": 1 if previous is None else int(previous["to_seq"]) + 1,
        "to_seq": to_seq,
        "heads": rows,
        "merkle_root": offline.merkle_root((r["subject"], r["stream_seq"], r["hash"]) for r in rows),
        "signed_at": format_time(clock.now()),
    }
    return sign(settings, body)


@dataclass(frozen=True)
class StoredSeal:
    stream_seq: int
    seal: Seal


async def last_seal(js: JetStreamContext, settings: PlatformSettings) -> StoredSeal | None:
    try:
        msg = await js.get_last_msg(settings.seals_stream, seal_subject(settings.province))
    except NotFoundError:
        return None
    assert msg.seq is not None
    return StoredSeal(msg.seq, json.loads(msg.data or b"{}"))


async def read_seals(js: JetStreamContext, settings: PlatformSettings) -> AsyncIterator[StoredSeal]:
    """Every seal in order, read with ``next_by_subj`` gets (no consumer)."""
    seq = 1
    while True:
        try:
            msg = await js.get_msg(settings.seals_stream, seq=seq, subject=seal_subject(settings.province), next=True)
        except NotFoundError:
            return
        assert msg.seq is not None
        yield StoredSeal(msg.seq, json.loads(msg.data or b"{}"))
        seq = msg.seq + 1


class SealConflict(Exception):
    """Another sealer appended a seal first, repeatedly."""


#: At most this many heads in one seal, so that a seal stays well under NATS's 1 MB message limit (a busy period
#: is sealed by several consecutive seals over consecutive stream ranges).
MAX_HEADS = 3000


async def _heads(
    js: JetStreamContext, stream: str, start: int, cut: int, max_heads: int
) -> tuple[dict[str, tuple[int, str]], int]:
    """Heads of the messages from ``start``, up to ``cut`` or to just before the message that would add one head
    too many; and the last stream sequence taken."""
    heads: dict[str, tuple[int, str]] = {}
    end = start - 1
    reading = cast(AsyncGenerator[RawMessage, None], replay(js, stream, start_seq=start, stop_seq=cut))
    async with contextlib.aclosing(reading) as messages:
        async for m in messages:
            if m.subject not in heads and len(heads) >= max_heads:
                break
            heads[m.subject] = (m.stream_seq, offline.head_hash(m.data))
            end = m.stream_seq
    return heads, end


async def seal_now(
    nc: NATS, settings: PlatformSettings, clock: Clock, *, attempts: int = 3, max_heads: int = MAX_HEADS
) -> Seal | None:
    """Seal what changed since the last seal; the last seal written, or None when nothing changed.

    More than ``max_heads`` aggregates changed: several seals, each over the next stream range. Needs publish rights
    on ``seal.<province>``. A concurrent sealer is never forked from: each append expects the last seal's sequence,
    and a conflict re-reads the chain (``attempts`` times in a row at most).
    """
    js = nc.jetstream()
    written: Seal | None = None
    conflicts = 0
    with _tracer.start_as_current_span("casereg.audit.seal", attributes={"casereg.province": settings.province}):
        while True:
            last = await last_seal(js, settings)
            previous = last.seal if last else None
            start = 1 if previous is None else int(previous["to_seq"]) + 1
            cut = await last_sequence(js, settings.stream)
            if cut < start:
                return written
            heads, end = await _heads(js, settings.stream, start, cut, max_heads)
            seal = build_seal(settings, previous, end, heads, clock)
            expected = {"Nats-Expected-Last-Subject-Sequence": str(last.stream_seq if last else 0)}
            try:
                await js.publish(
                    seal_subject(settings.province),
                    offline.canonical(seal),
                    headers=expected,
                    stream=settings.seals_stream,
                )
            except APIError as exc:
                if exc.err_code != WRONG_LAST_SEQUENCE:
                    raise
                conflicts += 1
                if conflicts >= attempts:
                    raise SealConflict(f"{attempts} attempts lost to other sealers") from None
                log.info("another sealer wrote seal #%s first; sealing again", seal["seal_no"])
                continue
            conflicts = 0
            written = seal
            log.info("seal #%s over %d aggregates, stream %d..%d", seal["seal_no"], len(heads), start, end)


class SealSettings(BaseSettings):
    """The periodic sealer's own setting (read when the sealer is built, never at import)."""

    model_config = SettingsConfigDict(env_prefix="CASEREG_", extra="ignore", frozen=True)

    seal_interval: float = Field(default=900.0, gt=0, description="Seconds between seals (CASEREG_SEAL_INTERVAL).")


@dataclass
class Sealer:
    """The periodic sealer (run inside the national-sync service): ``await start()``, ``await stop()``.

    Seals every ``interval`` seconds (``CASEREG_SEAL_INTERVAL``); a failed round is logged and tried again at the
    next tick. ``nc`` must be allowed to publish on ``seal.<province>`` (the ``national_sync`` user is).
    """

    nc: NATS
    settings: PlatformSettings
    interval: float
    clock: Clock = field(default_factory=SystemClock)
    _task: asyncio.Task[None] | None = None
    sealed: int = 0

    @classmethod
    def from_env(cls, nc: NATS, settings: PlatformSettings, clock: Clock | None = None) -> Sealer:
        """A sealer ticking every ``CASEREG_SEAL_INTERVAL`` seconds (default 900)."""
        return cls(nc, settings, SealSettings().seal_interval, clock or SystemClock())

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="casereg-sealer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            try:
                if await seal_now(self.nc, self.settings, self.clock) is not None:
                    self.sealed += 1
            except (APIError, SealConflict, nats.errors.Error, TimeoutError) as exc:
                log.warning("sealing failed, trying again in %ss: %s", self.interval, exc)
            await asyncio.sleep(self.interval)


@dataclass
class SealCheck:
    """``casereg verify --seals``: problems (failures) and what changed since the last seal (not a failure)."""

    seals: int = 0
    problems: list[str] = field(default_factory=list)
    changed_since: list[str] = field(default_factory=list)
    last_to_seq: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def check_stream(messages: list[RawMessage], seals: list[Seal], public_key: bytes) -> SealCheck:
    """The seal chain, every sealed head still there unchanged, and coverage of every aggregate's current head."""
    report = SealCheck(seals=len(seals))
    report.problems += offline.check_seal_chain(seals, public_key)
    triples = [(m.stream_seq, m.subject, m.data) for m in messages]
    report.problems += offline.check_against_seals(triples, seals, complete=True)
    report.last_to_seq = int(seals[-1]["to_seq"]) if seals else 0
    last_stored = max((m.stream_seq for m in messages), default=0)
    if last_stored < report.last_to_seq:
        report.problems.append(
            f"the stream ends at sequence {last_stored} but seal #{seals[-1]['seal_no']} covers up to "
            f"{report.last_to_seq}: messages were removed from its end"
        )
    sealed = offline.sealed_heads(seals)
    for subject, (seq, _) in sorted(heads_of(messages).items()):
        if seq > report.last_to_seq:
            report.changed_since.append(subject)
        elif subject not in sealed:
            report.problems.append(f"{subject}: head at stream seq {seq} is covered by no seal")
    return report
