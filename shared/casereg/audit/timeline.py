"""A case's timeline: time, agency and officer, event, the facts that matter, the rule cited, trace id.

Built from the stored envelopes (never upcast, never decrypted: an encrypted field is shown as "đã mã hoá" /
``<encrypted>``). The same entries serve ``casereg history`` (text or ``--json``) and intake's
``GET /v1/cases/{case_id}/history``. Times are shown in Vietnam's time (UTC+07:00, no daylight saving).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from casereg.audit.labels import ENCRYPTED, EVENTS, HEADINGS, RULE, UNKNOWN_TYPE, Lang
from casereg.log.canonical import format_time
from casereg.log.envelope import Envelope

#: The keys of an encrypted field (:class:`casereg.crypto.fields.Encrypted`) as stored.
ENCRYPTED_KEYS = frozenset({"alg", "kid", "nonce", "ct"})
VIETNAM = timezone(timedelta(hours=7), "ICT")


def is_encrypted(value: Any) -> bool:
    return isinstance(value, dict) and value.keys() >= ENCRYPTED_KEYS


def redact(value: Any, mark: Any = ENCRYPTED.en) -> Any:
    """``value`` with every encrypted field replaced by ``mark`` (never decrypted here)."""
    if is_encrypted(value):
        return mark
    if isinstance(value, dict):
        return {k: redact(v, mark) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, mark) for v in value]
    return value


@dataclass(frozen=True)
class Fact:
    field: str
    label: str
    value: Any  # JSON value, encrypted parts replaced by the language's mark


@dataclass(frozen=True)
class Entry:
    stream_seq: int | None
    seq: int
    event_id: str
    type: str
    label: str
    recorded_at: datetime
    occurred_at: datetime
    agency: str | None
    officer: str | None
    role: str | None
    service: str | None
    facts: tuple[Fact, ...]
    rule: str | None
    trace_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "stream_seq": self.stream_seq,
            "seq": self.seq,
            "event_id": self.event_id,
            "type": self.type,
            "label": self.label,
            "recorded_at": format_time(self.recorded_at),
            "occurred_at": format_time(self.occurred_at),
            "actor": {"agency": self.agency, "officer": self.officer, "role": self.role, "service": self.service},
            "facts": [{"field": f.field, "label": f.label, "value": f.value} for f in self.facts],
            "rule": self.rule,
            "trace_id": self.trace_id,
        }


def rule_cited(payload: dict[str, Any]) -> str | None:
    """The rule an event applied: ``rule_id vN — article``, or the legal basis an officer gave."""
    parts = []
    if payload.get("rule_id"):
        version = payload.get("rule_version")
        parts.append(f"{payload['rule_id']} v{version}" if version is not None else str(payload["rule_id"]))
    for key in ("article", "basis"):
        if isinstance(payload.get(key), str) and payload[key]:
            parts.append(payload[key])
    return " — ".join(parts) or None


def _facts(event_type: str, payload: dict[str, Any], lang: Lang) -> tuple[Fact, ...]:
    mark = ENCRYPTED(lang)
    labels = EVENTS.get(event_type)
    if labels is None:  # unknown type: its scalar fields under their raw names
        return tuple(
            Fact(k, k, redact(v, mark))
            for k, v in sorted(payload.items())
            if not isinstance(v, dict | list) or is_encrypted(v)
        )
    return tuple(
        Fact(name, label(lang), redact(payload[name], mark))
        for name, label in labels.facts.items()
        if payload.get(name) not in (None, "", [], {})
    )


def entry(event: Envelope, lang: Lang = "vi", stream_seq: int | None = None) -> Entry:
    labels = EVENTS.get(event.type)
    return Entry(
        stream_seq=stream_seq,
        seq=event.seq,
        event_id=event.event_id,
        type=event.type,
        label=labels.title(lang) if labels else event.type,
        recorded_at=event.recorded_at,
        occurred_at=event.occurred_at,
        agency=event.actor.agency,
        officer=event.actor.officer,
        role=event.actor.role,
        service=event.actor.service,
        facts=_facts(event.type, event.payload, lang),
        rule=rule_cited(event.payload),
        trace_id=event.trace_id,
    )


def timeline(events: Iterable[tuple[int | None, Envelope]], lang: Lang = "vi") -> list[Entry]:
    return [entry(e, lang, stream_seq) for stream_seq, e in events]


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def render(e: Entry, lang: Lang = "vi") -> str:
    """A few readable lines for one entry."""
    when = e.recorded_at.astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M:%S (+07)")
    who = " / ".join(x for x in (e.agency, e.officer) if x) or (e.service and f"{HEADINGS['system'](lang)} {e.service}")
    unknown = "" if e.type in EVENTS else f"  {UNKNOWN_TYPE(lang)}"
    lines = [f"{when}  {e.label} [{e.type}]{unknown}", f"    {HEADINGS['actor'](lang)}: {who or '-'}"]
    lines += [f"    {f.label}: {_value(f.value)}" for f in e.facts]
    if e.rule:
        lines.append(f"    {RULE(lang)}: {e.rule}")
    where = f"seq {e.seq}" + (f", stream {e.stream_seq}" if e.stream_seq is not None else "")
    trace = f"{HEADINGS['trace'](lang)}: {e.trace_id}  · " if e.trace_id else ""
    lines.append(f"    {trace}{where}")
    return "\n".join(lines)
