"""Check the hash chain on raw stored bytes; never upcasts (DESIGN §2).

For each aggregate (subject) the events must hash to their stored ``hash``, belong to that aggregate, follow one
another by ``seq`` and ``prev_hash`` from the genesis hash, and never go back in ``recorded_at``. The first break
of each aggregate is reported with its position and reason. The rules themselves are
:func:`casereg_verify.verify.chain_break`, the offline verifier's (one implementation). A removed *tail* is
seen by the seals (``casereg.audit.seals``), not here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from casereg_verify.verify import chain_break

from casereg.log.commit import parse_commit
from casereg.log.envelope import AggregateRef
from casereg.log.errors import CorruptCommit
from casereg.log.raw import RawMessage


class BreakReason(StrEnum):
    UNREADABLE = "unreadable"  # not a commit, or an event without the envelope's fields
    CHANGED = "changed"  # content differs from what was hashed
    FOREIGN = "foreign"  # an event of another aggregate
    REORDERED = "reordered"  # an event out of its place (its place is elsewhere in the log)
    MISSING = "missing"  # an event removed from the middle
    DUPLICATED = "duplicated"  # the same event twice
    BROKEN_LINK = "broken-link"  # prev_hash does not name the previous event
    TIME_REVERSED = "time-reversed"  # recorded_at earlier than the previous event's


@dataclass(frozen=True)
class Break:
    subject: str
    stream_seq: int
    event_index: int
    event_seq: int | None
    event_id: str | None
    reason: BreakReason
    detail: str

    def describe(self) -> str:
        where = f"{self.subject} stream seq {self.stream_seq}, event #{self.event_index}"
        ident = f" (seq {self.event_seq}, id {self.event_id})" if self.event_id else ""
        return f"{where}{ident}: {self.reason.value}: {self.detail}"


@dataclass
class VerifyReport:
    aggregates: int = 0
    messages: int = 0
    events: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


@dataclass(frozen=True)
class _Stored:
    stream_seq: int
    index: int
    event: dict[str, Any]


def verify_messages(messages: Iterable[RawMessage]) -> VerifyReport:
    report = VerifyReport()
    by_subject: dict[str, list[_Stored]] = defaultdict(list)
    unreadable: dict[str, Break] = {}
    for msg in messages:
        report.messages += 1
        try:
            events = parse_commit(msg.data)
        except CorruptCommit as exc:
            unreadable.setdefault(
                msg.subject,
                Break(msg.subject, msg.stream_seq, 0, None, None, BreakReason.UNREADABLE, str(exc)),
            )
            continue
        for i, event in enumerate(events):
            by_subject[msg.subject].append(_Stored(msg.stream_seq, i, event))
    for subject in sorted(set(by_subject) | set(unreadable)):
        report.aggregates += 1
        stored = by_subject.get(subject, [])
        report.events += len(stored)
        found = _first_break(subject, stored)
        first = min(
            (b for b in (found, unreadable.get(subject)) if b is not None),
            key=lambda b: (b.stream_seq, b.event_index),
            default=None,
        )
        if first is not None:
            report.breaks.append(first)
    return report


def _first_break(subject: str, stored: list[_Stored]) -> Break | None:
    try:
        aggregate_id = AggregateRef.from_subject(subject).id
    except ValueError as exc:
        return Break(subject, stored[0].stream_seq if stored else 0, 0, None, None, BreakReason.FOREIGN, str(exc))
    found = chain_break(aggregate_id, [s.event for s in stored])
    if found is None:
        return None
    position, reason, detail = found
    item = stored[position]
    ev = item.event
    return Break(subject, item.stream_seq, item.index, ev.get("seq"), ev.get("event_id"), BreakReason(reason), detail)
