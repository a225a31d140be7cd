"""Idempotency keys: the four answers, stale takeover, abandon, and one winner among many, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from casereg.clock import ManualClock
from intake.adapters.idempotency import (
    Begun,
    Outcome,
    abandon,
    begin,
    complete,
    fingerprint,
)

from tests.intake.databases import db_url_fixture, engine_fixture  # noqa: F401 - fixtures

AGENCY = "2tier/21583/ubnd"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))


def test_new_then_replay(engine: sa.Engine, clock: ManualClock) -> None:
    assert begin(engine, AGENCY, "k1", "h1", clock=clock) == Begun(Outcome.NEW)
    complete(engine, AGENCY, "k1", 201, json.dumps({"case_id": "c-1"}), clock=clock)
    clock.advance(timedelta(days=30))
    replay = begin(engine, AGENCY, "k1", "h1", clock=clock)
    assert replay == Begun(Outcome.REPLAY, 201, '{"case_id": "c-1"}')


def test_same_key_other_request_is_a_mismatch(engine: sa.Engine, clock: ManualClock) -> None:
    begin(engine, AGENCY, "k1", "h1", clock=clock)
    assert begin(engine, AGENCY, "k1", "h2", clock=clock).outcome is Outcome.MISMATCH
    complete(engine, AGENCY, "k1", 201, "{}", clock=clock)
    assert begin(engine, AGENCY, "k1", "h2", clock=clock).outcome is Outcome.MISMATCH


def test_keys_belong_to_one_agency(engine: sa.Engine, clock: ManualClock) -> None:
    assert begin(engine, AGENCY, "k1", "h1", clock=clock).outcome is Outcome.NEW
    assert begin(engine, "other", "k1", "h2", clock=clock).outcome is Outcome.NEW


def test_in_flight_until_stale_then_taken_over(engine: sa.Engine, clock: ManualClock) -> None:
    begin(engine, AGENCY, "k1", "h1", clock=clock)
    clock.advance(timedelta(seconds=59))
    assert begin(engine, AGENCY, "k1", "h1", clock=clock).outcome is Outcome.IN_FLIGHT
    clock.advance(timedelta(seconds=2))
    assert begin(engine, AGENCY, "k1", "h1", clock=clock).outcome is Outcome.NEW
    # the takeover refreshed the row: a third caller now sees it in flight again
    assert begin(engine, AGENCY, "k1", "h1", clock=clock).outcome is Outcome.IN_FLIGHT
    complete(engine, AGENCY, "k1", 201, '{"ok": true}', clock=clock)
    assert begin(engine, AGENCY, "k1", "h1", clock=clock).outcome is Outcome.REPLAY


def test_stale_timeout_is_configurable(engine: sa.Engine, clock: ManualClock) -> None:
    begin(engine, AGENCY, "k1", "h1", clock=clock)
    clock.advance(timedelta(seconds=6))
    assert begin(engine, AGENCY, "k1", "h1", clock=clock, stale_after=timedelta(seconds=5)).outcome is Outcome.NEW


def test_a_done_key_is_never_taken_over(engine: sa.Engine, clock: ManualClock) -> None:
    begin(engine, AGENCY, "k1", "h1", clock=clock)
    complete(engine, AGENCY, "k1", 201, "{}", clock=clock)
    clock.advance(timedelta(days=400))
    assert begin(engine, AGENCY, "k1", "h1", clock=clock).outcome is Outcome.REPLAY


def test_abandon_gives_the_key_back(engine: sa.Engine, clock: ManualClock) -> None:
    begin(engine, AGENCY, "k1", "h1", clock=clock)
    abandon(engine, AGENCY, "k1")
    assert begin(engine, AGENCY, "k1", "h2", clock=clock).outcome is Outcome.NEW
    complete(engine, AGENCY, "k1", 201, "{}", clock=clock)
    abandon(engine, AGENCY, "k1")  # a done key stays
    assert begin(engine, AGENCY, "k1", "h2", clock=clock).outcome is Outcome.REPLAY


def test_complete_needs_an_in_flight_key(engine: sa.Engine, clock: ManualClock) -> None:
    with pytest.raises(LookupError):
        complete(engine, AGENCY, "never-begun", 201, "{}", clock=clock)


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_key_length(engine: sa.Engine, key: str) -> None:
    with pytest.raises(ValueError, match="1 to 255"):
        begin(engine, AGENCY, key, "h1")


def test_longest_key(engine: sa.Engine, clock: ManualClock) -> None:
    assert begin(engine, AGENCY, "x" * 255, "h1", clock=clock).outcome is Outcome.NEW


@pytest.mark.parametrize("stale_row", [False, True], ids=["fresh", "stale-takeover"])
def test_fifty_concurrent_begins_one_winner(engine: sa.Engine, clock: ManualClock, stale_row: bool) -> None:
    if stale_row:
        begin(engine, AGENCY, "same-key", "h1", clock=clock)
        clock.advance(timedelta(minutes=5))
    barrier = threading.Barrier(50)
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one() -> None:
        try:
            barrier.wait()
            result = begin(engine, AGENCY, "same-key", "h1", clock=clock).outcome
            with lock:
                outcomes.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert Counter(outcomes) == {Outcome.NEW: 1, Outcome.IN_FLIGHT: 49}


def test_fingerprint_is_canonical() -> None:
    a = fingerprint("submit", json.loads('{"a": 1, "b": [1, 2]}'))
    b = fingerprint("submit", json.loads('{ "b": [1,2], "a":1 }'))
    assert a == b
    assert fingerprint("submit", {"a": 2, "b": [1, 2]}) != a
    assert fingerprint("other", {"a": 1, "b": [1, 2]}) != a
