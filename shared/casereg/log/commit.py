"""Encoding and decoding of the one JetStream message written per decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casereg_verify.verify import parse_commit as offline_parse_commit

from casereg.log.canonical import canonical_bytes
from casereg.log.envelope import COMMIT_FORMAT, AggregateRef, Envelope
from casereg.log.errors import CorruptCommit


def encode_commit(events: list[Envelope]) -> bytes:
    return canonical_bytes({"format": COMMIT_FORMAT, "events": [e.stored() for e in events]})


def parse_commit(data: bytes) -> list[dict[str, Any]]:
    """The stored event dicts of one message, untouched (what ``verify`` hashes); the offline verifier's rules."""
    try:
        return offline_parse_commit(data)
    except ValueError as exc:
        raise CorruptCommit(str(exc)) from None


@dataclass(frozen=True)
class StoredCommit:
    """One message of the log as read back: its stream position and its events (not upcast)."""

    stream_seq: int
    subject: str
    time: datetime | None
    events: tuple[Envelope, ...]

    @property
    def aggregate(self) -> AggregateRef:
        return AggregateRef.from_subject(self.subject)

    @property
    def last(self) -> Envelope:
        return self.events[-1]

    @classmethod
    def decode(cls, stream_seq: int, subject: str, time: datetime | None, data: bytes) -> StoredCommit:
        events = tuple(Envelope.model_validate(e) for e in parse_commit(data))
        return cls(stream_seq=stream_seq, subject=subject, time=time, events=events)
