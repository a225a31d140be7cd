"""HttpNationalAdapter against the real simulator process: outcomes, retries, timeouts, the breaker, reconciliation."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from casereg.log.canonical import canonical_bytes
from casereg.settings import load
from casereg.telemetry import setup_telemetry
from national_sync.adapter import (
    HttpNationalAdapter,
    NationalUnavailable,
    PushOutcome,
    PushRecord,
    PushResult,
)
from national_sync.settings import NationalSyncSettings
from opentelemetry import trace
from pydantic import ValidationError

from tests.national_sync.simulator_support import SimulatorProcess, set_faults, simulator_process, stats

PROVINCE = "52"


def settings(url: str, **overrides: Any) -> NationalSyncSettings:
    tiny: dict[str, Any] = {
        "national_url": url,
        "push_timeout": 5.0,
        "retry_attempts": 4,
        "retry_initial": 0.01,
        "retry_max": 0.05,
        "breaker_failures": 50,
        "breaker_recovery": 1.0,
    }
    return NationalSyncSettings(**(tiny | overrides))


def record(record_id: str, version: int, payload: dict[str, Any] | None = None, kind: str = "case") -> PushRecord:
    return PushRecord(kind, record_id, version, version - 1, payload or {"status": f"v{version}"})


def held(url: str, record_id: str, kind: str = "case") -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/v1/provinces/{PROVINCE}/records/{kind}/{record_id}", timeout=10.0)
    return [] if response.status_code == 404 else list(response.json()["versions"])


def held_versions(url: str, record_id: str, kind: str = "case") -> list[int]:
    return [v["version"] for v in held(url, record_id, kind)]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatorProcess]:
    with simulator_process(tmp_path, seed=11) as process:
        yield process


@pytest.fixture
async def adapter(sim: SimulatorProcess) -> AsyncIterator[HttpNationalAdapter]:
    adapter = HttpNationalAdapter(settings(sim.url), PROVINCE)
    yield adapter
    await adapter.aclose()


def test_records_and_idempotency_keys() -> None:
    assert record("c1", 3).idempotency_key("52") == "52:case:c1:3"
    for kind, record_id, version, previous in (
        ("petition", "c1", 1, 0),
        ("case", "a/b", 1, 0),
        ("case", "c1", 2, 0),
        ("case", "c1", 0, -1),
    ):
        with pytest.raises(ValueError, match=r"kind|record id|version"):
            PushRecord(kind, record_id, version, previous, {})


def test_production_refuses_an_empty_token(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "CASEREG_MODE": "production",
        "CASEREG_MASTER_KEY": "m",
        "CASEREG_BLIND_INDEX_KEY": "b",
        "CASEREG_SEAL_KEY": "s",
        "CASEREG_NATIONAL_SYNC_NATS_PASSWORD": "p",
    }.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="CASEREG_NATIONAL_SYNC_NATIONAL_TOKEN"):
        load(NationalSyncSettings)
    monkeypatch.setenv("CASEREG_NATIONAL_SYNC_NATIONAL_TOKEN", "t")
    assert load(NationalSyncSettings).national_token.get_secret_value() == "t"


async def test_push_is_accepted_once_and_a_repeat_is_a_duplicate_ack(
    sim: SimulatorProcess, adapter: HttpNationalAdapter
) -> None:
    first = await adapter.push(record("c1", 1))
    assert first == PushResult(PushOutcome.ACCEPTED, detail="stored")
    again = await adapter.push(record("c1", 1))
    assert again.outcome is PushOutcome.ACCEPTED and "duplicate" in again.detail
    assert (await adapter.push(record("c1", 2))).outcome is PushOutcome.ACCEPTED
    assert held_versions(sim.url, "c1") == [1, 2]
    counted = stats(sim.url)
    assert (counted["accepted"], counted["duplicates"]) == (2, 1)


async def test_a_gap_or_a_changed_version_is_a_conflict_with_the_held_version(
    sim: SimulatorProcess, adapter: HttpNationalAdapter
) -> None:
    assert (await adapter.push(record("c1", 1))).outcome is PushOutcome.ACCEPTED
    gap = await adapter.push(record("c1", 3))
    assert (gap.outcome, gap.held_version) == (PushOutcome.CONFLICT, 1)
    changed = await adapter.push(record("c1", 1, {"status": "different"}))
    assert (changed.outcome, changed.held_version) == (PushOutcome.CONFLICT, 1)
    fresh = await adapter.push(record("c2", 2))
    assert (fresh.outcome, fresh.held_version) == (PushOutcome.CONFLICT, 0)
    assert stats(sim.url)["requests"] == 4  # never retried


async def test_a_bad_record_or_token_is_rejected_without_retrying(sim: SimulatorProcess, tmp_path: Path) -> None:
    adapter = HttpNationalAdapter(settings(sim.url), PROVINCE)
    try:
        bad = await adapter.push(PushRecord("case", "c1", 1, 0, {"amount": 1.5}))  # floats are refused
        assert (bad.outcome, bad.detail) == (PushOutcome.REJECTED, "HTTP 422")
        assert "1.5" not in bad.detail
        assert stats(sim.url)["requests"] == 1
    finally:
        await adapter.aclose()
    (tmp_path / "guarded").mkdir()
    with simulator_process(tmp_path / "guarded", token="right") as guarded:
        for token, outcome in (("wrong", PushOutcome.REJECTED), ("right", PushOutcome.ACCEPTED)):
            adapter = HttpNationalAdapter(settings(guarded.url, national_token=token), PROVINCE)
            try:
                assert (await adapter.push(record("c1", 1))).outcome is outcome
            finally:
                await adapter.aclose()
        assert stats(guarded.url)["unauthorized"] == 1


async def test_retries_get_through_a_50_percent_error_rate(sim: SimulatorProcess) -> None:
    set_faults(sim.url, error_rate=0.5)
    adapter = HttpNationalAdapter(settings(sim.url, retry_attempts=30), PROVINCE)
    try:
        for i in range(20):
            for version in (1, 2):
                assert (await adapter.push(record(f"c{i}", version))).outcome is PushOutcome.ACCEPTED
    finally:
        await adapter.aclose()
    counted = stats(sim.url)
    assert counted["accepted"] == 40
    assert counted["faults"]["error"] > 0
    assert counted["requests"] == 40 + counted["faults"]["error"]
    assert counted["accepted_out_of_order"] == counted["accepted_repeated"] == 0


async def test_timeouts_are_retried(sim: SimulatorProcess) -> None:
    set_faults(sim.url, timeout_rate=0.5, timeout_ms=2000)
    adapter = HttpNationalAdapter(settings(sim.url, retry_attempts=30, push_timeout=0.3), PROVINCE)
    try:
        for i in range(6):
            assert (await adapter.push(record(f"c{i}", 1))).outcome is PushOutcome.ACCEPTED
    finally:
        await adapter.aclose()
    counted = stats(sim.url)
    assert counted["faults"]["timeout"] > 0
    assert counted["accepted"] == 6


async def test_retries_give_up_with_national_unavailable(sim: SimulatorProcess) -> None:
    set_faults(sim.url, error_rate=1.0)
    adapter = HttpNationalAdapter(settings(sim.url, retry_attempts=3), PROVINCE)
    try:
        with pytest.raises(NationalUnavailable, match="gave up after 3 tries, last: HTTP 500"):
            await adapter.push(record("c1", 1, {"name": "Lê Thị Mai"}))
    finally:
        await adapter.aclose()
    assert stats(sim.url)["requests"] == 3


async def test_the_breaker_opens_in_an_outage_and_closes_after_recovery(sim: SimulatorProcess) -> None:
    set_faults(sim.url, outage=True)
    adapter = HttpNationalAdapter(
        settings(sim.url, retry_attempts=10, breaker_failures=3, breaker_recovery=1.0), PROVINCE
    )
    try:
        with pytest.raises(NationalUnavailable, match="circuit open"):
            await adapter.push(record("c1", 1))
        assert stats(sim.url)["requests"] == 3  # the breaker stopped the retries after 3 failures
        with pytest.raises(NationalUnavailable, match="circuit open"):
            await adapter.push(record("c2", 1))
        with pytest.raises(NationalUnavailable, match="circuit open"):
            async for _ in adapter.holdings():
                pass
        assert stats(sim.url)["requests"] == 3  # open: nothing even tried

        set_faults(sim.url, outage=False)
        deadline = time.monotonic() + 30
        while True:  # half-open after the recovery time: the next push goes through and closes it
            try:
                result = await adapter.push(record("c1", 1))
                break
            except NationalUnavailable:
                assert time.monotonic() < deadline, "breaker never closed"
                await asyncio.sleep(0.2)
        assert result.outcome is PushOutcome.ACCEPTED
        assert adapter.breaker.closed
        assert (await adapter.push(record("c2", 1))).outcome is PushOutcome.ACCEPTED
    finally:
        await adapter.aclose()


async def test_a_lost_acknowledgement_ends_accepted_and_stored_once(
    sim: SimulatorProcess, adapter: HttpNationalAdapter
) -> None:
    set_faults(sim.url, duplicate_ack_rate=1.0)
    result = await adapter.push(record("c1", 1))
    assert result.outcome is PushOutcome.ACCEPTED
    assert "duplicate" in result.detail
    assert held_versions(sim.url, "c1") == [1]
    counted = stats(sim.url)
    assert (counted["accepted"], counted["duplicates"], counted["faults"]["duplicate_ack"]) == (1, 1, 1)
    assert counted["accepted_repeated"] == 0


async def test_holdings_page_through_everything_held(sim: SimulatorProcess) -> None:
    adapter = HttpNationalAdapter(settings(sim.url), PROVINCE, page_size=3)
    payloads: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        for i in range(7):
            kind = "case" if i < 5 else "reception"
            for version in (1, 2):
                payload = {"id": f"r{i}", "version": version, "name": "Trần Văn Bình"}
                assert (await adapter.push(record(f"r{i}", version, payload, kind))).outcome is PushOutcome.ACCEPTED
            payloads[kind, f"r{i}"] = payload
        held = [h async for h in adapter.holdings()]
        cases = [h async for h in adapter.holdings("case")]
    finally:
        await adapter.aclose()
    assert [(h.kind, h.record_id) for h in held] == sorted(payloads)
    assert all(h.latest_version == 2 for h in held)
    for h in held:
        assert h.payload_sha256 == hashlib.sha256(canonical_bytes(payloads[h.kind, h.record_id])).hexdigest()
    assert [h.record_id for h in cases] == [f"r{i}" for i in range(5)]
    assert stats(sim.url)["requests"] == 14 + 3 + 2  # seven items in pages of three, five in pages of three


async def test_each_push_is_a_span_whose_context_travels_in_the_request(
    sim: SimulatorProcess, adapter: HttpNationalAdapter
) -> None:
    setup_telemetry("national-sync-test")
    with trace.get_tracer("test").start_as_current_span("sync") as parent:
        await adapter.push(record("c1", 1))
    trace_id = trace.format_trace_id(parent.get_span_context().trace_id)
    (stored,) = held(sim.url, "c1")
    assert stored["traceparent"].split("-")[1] == trace_id
    assert stored["idempotency_key"] == "52:case:c1:1"
