"""The data the scenarios write: petitions with a sealed identity, and a fast way to fill a stream with them.

The event models here are the benchmark's own stand-ins (intake owns the real petition events). What matters is
that they cost what a real petition costs: a pydantic payload with the four identity fields sealed (AES-GCM under
the person's data key), appended through the log client with its hash chain.

Filling a stream with up to a million cases through the log client would take far longer than the measurement,
so :class:`CommitTemplate` renders commits by substituting ids into canonical bytes produced once by the log
client itself. The result is byte-for-byte what ``EventLog.append`` stores for the same ids and time (the hash is
computed over the substituted canonical bytes, so ``casereg log verify`` accepts it); the smoke test checks this.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from casereg.clock import ManualClock
from casereg.crypto.keystore import KeyDestroyed
from casereg.crypto.person import PersonIdentity, SealedIdentity, seal_identity
from casereg.log.canonical import canonical_bytes, genesis_hash
from casereg.log.envelope import COMMIT_FORMAT, Actor, AggregateRef, Envelope
from casereg.log.events import DomainEvent, EventRegistry, NewEvent
from casereg.log.store import EventLog, Head
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nats.js.client import JetStreamContext

#: Every event the benchmarks write is recorded at this instant (fixed, so runs are reproducible).
BENCH_TIME = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
ACTOR = Actor(agency="so-tiep-cong-dan", officer="bench-officer", role="reception", service="intake")

Kind = Literal["complaint", "denunciation", "recommendation"]
KINDS: tuple[Kind, ...] = ("complaint", "denunciation", "recommendation")
CHANNELS = ("in_person", "mail", "online", "forwarded")


class PetitionReceived(DomainEvent):
    """Stand-in for intake's petition event: who (sealed), what kind, how, by whom."""

    event_type: ClassVar[str] = "PetitionReceived"
    schema_version: ClassVar[int] = 1

    person_id: str
    petitioner: SealedIdentity
    kind: Kind
    channel: str
    received_by: str
    topic: str


class PetitionSupplemented(DomainEvent):
    """A later submission on the same case by the same petitioner, whose identity is sealed again."""

    event_type: ClassVar[str] = "PetitionSupplemented"
    schema_version: ClassVar[int] = 1

    person_id: str
    petitioner: SealedIdentity
    channel: str
    round: int


REGISTRY = EventRegistry([PetitionReceived, PetitionSupplemented])


@dataclass(frozen=True)
class CaseState:
    """What a handler folds from a case to decide: enough to route, remind and acknowledge."""

    kind: str | None = None
    person_key: str | None = None
    received_by: str | None = None
    submissions: int = 0
    last_type: str | None = None


def evolve(state: CaseState, envelope: Envelope) -> CaseState:
    """A realistic fold: decode each payload into its model (validation included), then update the state."""
    event = REGISTRY.decode(envelope)
    if isinstance(event, PetitionReceived):
        return CaseState(event.kind, event.petitioner.person_key, event.received_by, 1, envelope.type)
    if isinstance(event, PetitionSupplemented):
        return CaseState(state.kind, state.person_key, state.received_by, state.submissions + 1, envelope.type)
    return state


# --- ids and people -----------------------------------------------------------------------------------------


def _uuid(*parts: object) -> str:
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def case_id(seed: int, index: int) -> str:
    return _uuid("case", seed, index)


def person_id(seed: int, index: int) -> str:
    return _uuid("person", seed, index)


def event_id(seed: int, index: int, round_: int) -> str:
    return _uuid("event", seed, index, round_)


_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Võ", "Đặng", "Bùi", "Ksor", "Rơ Mah", "Siu")
_MIDDLE = ("Văn", "Thị", "Hữu", "Ngọc", "Minh", "Thu", "Đức", "Kim")
_GIVEN = ("An", "Bình", "Hà", "Hạnh", "Hùng", "Lan", "Long", "Mai", "Nam", "Thảo", "Tuấn", "H'Bia", "Blơk")
_STREETS = ("Trần Hưng Đạo", "Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Phan Đình Phùng", "Hùng Vương")
_WARDS = ("phường Ghềnh Ráng", "phường Hội Phú", "xã Ia Kha", "thị trấn Chư Sê", "xã Phước Hòa")


def identity(index: int) -> PersonIdentity:
    """A plausible person (diacritics included: UTF-8 length matters to the ciphertext size)."""
    return PersonIdentity(
        full_name=f"{_FAMILY[index % 12]} {_MIDDLE[index % 8]} {_GIVEN[index % 13]}",
        id_number=f"0521{index:08d}",
        address=f"{index % 200 + 1} {_STREETS[index % 6]}, {_WARDS[index % 5]}, tỉnh Gia Lai",
        phone=f"09{index % 100_000_000:08d}",
    )


def petition_event(
    *, seed: int, index: int, round_: int, sealed: SealedIdentity, pid: str, eid: str | None = None
) -> NewEvent:
    """Round 0 is the petition that opens the case; later rounds are supplements by the same person."""
    model: DomainEvent
    if round_ == 0:
        model = PetitionReceived(
            person_id=pid,
            petitioner=sealed,
            kind=KINDS[index % 3],
            channel=CHANNELS[index % 4],
            received_by="so-tiep-cong-dan",
            topic=("land", "administration", "social-policy", "environment")[index % 4],
        )
    else:
        model = PetitionSupplemented(person_id=pid, petitioner=sealed, channel=CHANNELS[index % 4], round=round_)
    return NewEvent.of(
        model,
        event_id=eid or event_id(seed, index, round_),
        occurred_at=BENCH_TIME,
        actor=ACTOR,
    )


class MemoryKeyStore:
    """Data keys in a dict: only for building fill templates (the measured appends use the SQL key store)."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}

    def get_or_create(self, key_id: str) -> bytes:
        return self._keys.setdefault(key_id, AESGCM.generate_key(bit_length=256))

    def get(self, key_id: str) -> bytes:
        if key_id not in self._keys:
            raise KeyError(key_id)
        key = self._keys[key_id]
        if not key:
            raise KeyDestroyed(key_id)
        return key

    def destroy(self, key_id: str) -> None:
        self._keys[key_id] = b""


# --- fill templates -----------------------------------------------------------------------------------------

_P_CASE = "benchcaseplaceholder000000000001"
_P_EVENT = "benchevtplaceholder0000000000001"
_P_PERSON = "benchpersonplaceholder0000000001"
_P_PREV = hashlib.sha256(b"casereg bench: previous hash placeholder").hexdigest()
_P_HASH = hashlib.sha256(b"casereg bench: own hash placeholder").hexdigest()


@dataclass(frozen=True)
class CommitTemplate:
    """Canonical bytes of one single-event commit with placeholders for the ids and the chain link."""

    body: bytes  # the event as hashed (without "hash")
    commit: bytes  # the stored message, with a placeholder for the hash
    prev_placeholder: bytes
    size: int

    @classmethod
    def build(cls, province: str, round_: int, *, seed: int = 0) -> CommitTemplate:
        """Seal one event with the log client for placeholder ids; ``round_ > 0`` extends an existing chain."""
        keys = MemoryKeyStore()
        sealed = seal_identity(keys, _P_PERSON, identity(seed))
        event = petition_event(seed=seed, index=0, round_=round_, sealed=sealed, pid=_P_PERSON, eid=_P_EVENT)
        log = offline_log(province)
        head = (
            Head.genesis(_P_CASE)
            if round_ == 0
            else Head(stream_seq=1, event_seq=round_, hash=_P_PREV, recorded_at=BENCH_TIME)
        )
        (envelope,) = log.seal_events(AggregateRef.case(_P_CASE), [event], head)
        stored = envelope.stored()
        body = canonical_bytes({k: v for k, v in stored.items() if k != "hash"})
        commit = canonical_bytes({"format": COMMIT_FORMAT, "events": [{**stored, "hash": _P_HASH}]})
        prev = genesis_hash(_P_CASE) if round_ == 0 else _P_PREV
        template = cls(body=body, commit=commit, prev_placeholder=prev.encode(), size=len(commit))
        for token in (_P_CASE, _P_EVENT, _P_PERSON, prev):
            if token.encode() not in body:
                raise AssertionError(f"the envelope no longer carries {token!r}: update CommitTemplate")
        return template

    def render(self, case: str, event: str, person: str, prev_hash: str) -> tuple[bytes, str]:
        """The stored commit for these ids and the hash of its event."""

        def fill(data: bytes) -> bytes:
            return (
                data.replace(_P_CASE.encode(), case.encode())
                .replace(_P_EVENT.encode(), event.encode())
                .replace(_P_PERSON.encode(), person.encode())
                .replace(self.prev_placeholder, prev_hash.encode())
            )

        digest = hashlib.sha256(fill(self.body)).hexdigest()
        return fill(self.commit).replace(_P_HASH.encode(), digest.encode()), digest


def offline_log(province: str) -> EventLog:
    """A log client that is never connected: for sealing events without writing them."""
    from nats.aio.client import Client

    return EventLog(nc=Client(), province=province, clock=ManualClock(BENCH_TIME), registry=REGISTRY)


@dataclass
class FillStats:
    messages: int
    seconds: float
    bytes_per_message: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "seconds": round(self.seconds, 2),
            "msg_per_s": round(self.rate),
            "bytes_per_message": round(self.bytes_per_message),
        }


async def fill_cases(
    js: JetStreamContext,
    *,
    province: str,
    seed: int,
    cases: int,
    second: Callable[[int], bool],
    progress: Callable[[str], None],
    chunk: int = 50_000,
) -> FillStats:
    """Write one petition per case, then a supplement for the cases ``second`` picks (round-major, like life).

    Raw ``publish_async`` pipelining without the concurrency header: this is set-up, not a measurement.
    """
    first = CommitTemplate.build(province, 0, seed=seed)
    later = CommitTemplate.build(province, 1, seed=seed)
    prefix = f"reg.{province}.case."
    hashes: dict[int, str] = {}
    written = 0
    size = 0
    t0 = time.perf_counter()

    async def publish(items: Iterable[tuple[str, bytes]]) -> None:
        nonlocal written, size
        futures = []
        for subject, data in items:
            futures.append(await js.publish_async(subject, data))
            size += len(data)
        await asyncio.wait_for(js.publish_async_completed(), 300)
        for f in futures:
            f.result()  # raises the server's error, if any
        written += len(futures)

    for start in range(0, cases, chunk):
        batch = []
        for i in range(start, min(start + chunk, cases)):
            cid = case_id(seed, i)
            data, digest = first.render(cid, event_id(seed, i, 0), person_id(seed, i), genesis_hash(cid))
            if second(i):
                hashes[i] = digest
            batch.append((prefix + cid, data))
        await publish(batch)
        progress(f"filled {written:,} messages ({time.perf_counter() - t0:.1f}s)")
    picked = sorted(hashes)
    for start in range(0, len(picked), chunk):
        batch = []
        for i in picked[start : start + chunk]:
            cid = case_id(seed, i)
            data, _ = later.render(cid, event_id(seed, i, 1), person_id(seed, i), hashes[i])
            batch.append((prefix + cid, data))
        await publish(batch)
        progress(f"filled {written:,} messages ({time.perf_counter() - t0:.1f}s)")
    seconds = time.perf_counter() - t0
    return FillStats(written, seconds, size / written if written else 0.0)
