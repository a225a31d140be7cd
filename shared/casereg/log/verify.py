"""Check the hash chain on raw stored bytes; never upcasts (DESIGN §2).

For each aggregate (subject) the events must hash to their stored ``hash``, belong to that aggregate, follow one
another by ``seq`` and ``prev_hash`` from the genesis hash, and never go back in ``recorded_at``. The first break
of each aggregate is reported with its position and reason. A removed *tail* cannot be seen here (seals, later).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from casereg.log.canonical import event_hash, genesis_hash
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
    seen_seqs = {s.event.get("seq") for s in stored}
    seen_ids: set[str] = set()
    expected_prev = genesis_hash(aggregate_id)
    expected_seq = 1
    last_recorded = ""
    for item in stored:
        ev = item.event

        def brk(reason: BreakReason, detail: str, item: _Stored = item, ev: dict[str, Any] = ev) -> Break:
            return Break(subject, item.stream_seq, item.index, ev.get("seq"), ev.get("event_id"), reason, detail)

        required = ("event_id", "case_id", "seq", "hash", "prev_hash", "recorded_at")
        if any(k not in ev for k in required):
            return brk(BreakReason.UNREADABLE, "an envelope field is missing")
        if event_hash(ev) != ev["hash"]:
            return brk(BreakReason.CHANGED, "the event's content does not match its hash")
        if ev["case_id"] != aggregate_id:
            return brk(BreakReason.FOREIGN, f"belongs to aggregate {ev['case_id']!r}, found under {aggregate_id!r}")
        if ev["event_id"] in seen_ids:
            return brk(BreakReason.DUPLICATED, "this event already appeared earlier")
        seen_ids.add(ev["event_id"])
        if ev["seq"] != expected_seq:
            if ev["seq"] < expected_seq:
                return brk(BreakReason.REORDERED, f"seq {ev['seq']} comes after seq {expected_seq - 1}")
            if expected_seq in seen_seqs:
                return brk(BreakReason.REORDERED, f"expected seq {expected_seq} here, found {ev['seq']}")
            return brk(BreakReason.MISSING, f"seq {expected_seq}..{ev['seq'] - 1} removed before this event")
        if ev["prev_hash"] != expected_prev:
            return brk(BreakReason.BROKEN_LINK, "prev_hash does not match the previous event's hash")
        if ev["recorded_at"] < last_recorded:
            return brk(BreakReason.TIME_REVERSED, "recorded_at is earlier than the previous event's")
        expected_prev, expected_seq, last_recorded = ev["hash"], expected_seq + 1, ev["recorded_at"]
    return None
