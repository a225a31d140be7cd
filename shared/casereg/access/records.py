"""Access records on ``reg.<province>.access.<case_id>``: one ``AccessRecorded`` event per read or disclosure.

They are kept off the case's subject so that reads never conflict with handling (DESIGN §2). Appending never
fails on a concurrency conflict: a record does not depend on earlier ones, so a conflicting append is simply
re-chained after the new head and sent again. Nothing personal is written here: the purpose is the reader's
own words (a reason, a file number), and a person is named only by their pseudonym number within the case.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import Field, model_validator

from casereg.log.envelope import Actor, AggregateRef, Envelope, new_event_id
from casereg.log.errors import ConcurrencyConflict
from casereg.log.events import DomainEvent, EventRegistry, NewEvent
from casereg.log.store import AppendResult, EventLog, Head


class AccessAction(StrEnum):
    """What was read or done."""

    #: The case's history (events as stored, encrypted fields hidden).
    HISTORY = "history"
    #: The case's raw messages exported (e.g. for an auditor or a court).
    EXPORT = "export"
    #: The case's read-model view.
    VIEW = "view"
    #: A person's identity (name, ID number, address...) or a denunciation's original text shown in clear.
    IDENTITY_DISCLOSURE = "identity_disclosure"
    #: A denunciation's original text or attachments shown in clear.
    CONTENT_DISCLOSURE = "content_disclosure"
    #: A person's data key destroyed (crypto-shredding).
    ERASURE = "erasure"


#: Actions that reveal or destroy personal data: their purpose is required.
PURPOSE_REQUIRED = frozenset({AccessAction.IDENTITY_DISCLOSURE, AccessAction.CONTENT_DISCLOSURE, AccessAction.ERASURE})


class PurposeRequired(ValueError):
    """A disclosure or an erasure without a stated purpose."""


class AccessRecorded(DomainEvent):
    """Someone read or disclosed part of a case. Who is the envelope's actor; when is its ``occurred_at``."""

    event_type = "AccessRecorded"
    schema_version = 1

    case_id: str
    action: AccessAction
    #: Why: free text of the reader's, required for disclosures and erasures.
    purpose: str | None = Field(default=None, max_length=2000)
    #: Which person of the case, by pseudonym number ("Người tố cáo #3" is 3); never a name.
    person_no: int | None = Field(default=None, ge=1)
    #: What exactly, without personal data: e.g. "stream seq 12..40", "GET /v1/cases/{id}/identity".
    detail: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _purpose(self) -> AccessRecorded:
        if self.action in PURPOSE_REQUIRED and not (self.purpose or "").strip():
            raise ValueError(f"a purpose is required for {self.action.value}")
        return self


#: Access event types, for readers of the ``access`` aggregates.
ACCESS_EVENTS: tuple[type[DomainEvent], ...] = (AccessRecorded,)
ACCESS_REGISTRY = EventRegistry(ACCESS_EVENTS)


def access_ref(case_id: str) -> AggregateRef:
    """The access aggregate of a case: ``reg.<province>.access.<case_id>``."""
    return AggregateRef(kind="access", id=case_id)


async def record_access(
    log: EventLog,
    case_id: str,
    actor: Actor,
    action: AccessAction | str,
    purpose: str | None = None,
    *,
    person_no: int | None = None,
    detail: str | None = None,
    occurred_at: datetime | None = None,
    event_id: str | None = None,
    correlation_id: str | None = None,
    attempts: int = 50,
) -> AppendResult:
    """Append one access record to the case's access subject; concurrent records never fail each other.

    ``event_id`` makes a retry of a call whose acknowledgement was lost idempotent (the record is recognised after
    the expected sequence, and JetStream drops a duplicate id within its duplicate window); a caller that may
    retry much later looks in :func:`access_records` first, as ``casereg person erase`` does. By default each call
    is a new record. Raises :class:`PurposeRequired` for a disclosure or erasure without a purpose.
    """
    kind = AccessAction(action)
    if kind in PURPOSE_REQUIRED and not (purpose or "").strip():
        raise PurposeRequired(f"a purpose is required for {kind.value}")
    event = AccessRecorded(case_id=case_id, action=kind, purpose=purpose, person_no=person_no, detail=detail)
    new = NewEvent.of(
        event,
        event_id=event_id or new_event_id(),
        occurred_at=occurred_at or log.clock.now(),
        actor=actor,
        correlation_id=correlation_id,
    )
    ref = access_ref(case_id)
    for attempt in range(1, attempts + 1):
        last = await log.last(ref)
        head = Head.after(last) if last is not None else Head.genesis(ref.id)
        try:
            return await log.append(ref, [new], head)
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
            # Someone else recorded at the same moment: chain after their record and try again.
            await asyncio.sleep(random.uniform(0, 0.005 * min(attempt, 10)))
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class AccessRecord:
    """One access record as read back."""

    stream_seq: int
    seq: int
    event_id: str
    case_id: str
    actor: Actor
    action: AccessAction
    purpose: str | None
    person_no: int | None
    detail: str | None
    occurred_at: datetime
    recorded_at: datetime

    @classmethod
    def of(cls, stream_seq: int, envelope: Envelope) -> AccessRecord:
        event = ACCESS_REGISTRY.decode(envelope)
        assert isinstance(event, AccessRecorded)
        return cls(
            stream_seq=stream_seq,
            seq=envelope.seq,
            event_id=envelope.event_id,
            case_id=event.case_id,
            actor=envelope.actor,
            action=event.action,
            purpose=event.purpose,
            person_no=event.person_no,
            detail=event.detail,
            occurred_at=envelope.occurred_at,
            recorded_at=envelope.recorded_at,
        )


async def access_records(log: EventLog, case_id: str) -> list[AccessRecord]:
    """A case's access records in the order they were written (empty when there are none)."""
    out: list[AccessRecord] = []
    async for commit in log.read(access_ref(case_id)):
        out.extend(AccessRecord.of(commit.stream_seq, e) for e in commit.events if e.type == AccessRecorded.event_type)
    return out
