"""Timeline labels cover every event type the services define; entries render facts, rules and hidden fields."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime

import pytest
from casereg.audit.labels import EVENTS, LANGS, Lang
from casereg.audit.timeline import entry, render
from casereg.log.envelope import Actor, Envelope
from casereg.log.events import DomainEvent

SERVICE_PACKAGES = ("intake", "routing", "escalation", "national_sync", "casereg.access")


def defined_event_types() -> set[str]:
    """Every concrete DomainEvent of the services and of the access records, found by importing their modules."""
    for name in SERVICE_PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if ".migrations" in info.name or ".simulator" in info.name:
                continue
            importlib.import_module(info.name)
    found: set[str] = set()
    todo = list(DomainEvent.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        event_type = getattr(cls, "event_type", None)
        defined_here = any(cls.__module__ == p or cls.__module__.startswith(f"{p}.") for p in SERVICE_PACKAGES)
        if isinstance(event_type, str) and event_type and defined_here:  # not the events tests define
            found.add(event_type)
    return found


def test_every_event_type_has_a_label_table_in_both_languages() -> None:
    types = defined_event_types()
    assert {"PetitionReceived", "OutcomeProposed", "DeadlineMissed", "AccessRecorded"} <= types
    assert sorted(types - set(EVENTS)) == []
    for labels in EVENTS.values():
        for lang in LANGS:
            assert labels.title(lang)
            assert all(label(lang) for label in labels.facts.values())


def envelope(event_type: str, payload: dict[str, object]) -> Envelope:
    at = datetime(2026, 7, 1, 1, 30, tzinfo=UTC)
    return Envelope(
        event_id="e1", case_id="c1", type=event_type, schema_version=1, seq=2, occurred_at=at, recorded_at=at,
        actor=Actor(service="escalation"), trace_id="4bf92f3577b34da6a3ce929d0e0e4736", payload=payload,
        prev_hash="0" * 64, hash="1" * 64,
    )  # fmt: skip


CASES: list[tuple[Lang, str, str]] = [("vi", "đã mã hoá", "Quá hạn"), ("en", "<encrypted>", "Deadline missed")]


@pytest.mark.parametrize(("lang", "mark", "title"), CASES)
def test_an_entry_shows_facts_rule_trace_and_hides_encrypted_fields(lang: Lang, mark: str, title: str) -> None:
    secret = {"alg": "A256GCM", "kid": "case-c1", "nonce": "bm9uY2U=", "ct": "c2VjcmV0"}
    e = entry(
        envelope(
            "DeadlineMissed",
            {"clock": "settle", "due": "2026-06-30", "agency": "ubnd-x", "rule_id": "LKN-28", "rule_version": 2,
             "article": "Luật Khiếu nại 2011 Điều 28", "extra": secret},
        ),
        lang,
        stream_seq=9,
    )  # fmt: skip
    assert e.label == title and e.rule == "LKN-28 v2 — Luật Khiếu nại 2011 Điều 28"
    assert [f.field for f in e.facts] == ["clock", "due", "agency"]
    text = render(e, lang)
    assert text.startswith(f"2026-07-01 08:30:00 (+07)  {title} [DeadlineMissed]")
    assert "4bf92f3577b34da6a3ce929d0e0e4736" in text and "seq 2, stream 9" in text
    unknown = entry(envelope("SomethingNew", {"a": 1, "b": secret, "c": {"x": 1}}), lang)
    assert unknown.label == "SomethingNew"
    assert [(f.field, f.value) for f in unknown.facts] == [("a", 1), ("b", mark)]
    assert "c2VjcmV0" not in render(unknown, lang)
