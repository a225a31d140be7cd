"""The national-database simulator as a real process: push semantics, counters, faults, persistence."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from casereg.log.canonical import canonical_bytes

from tests.national_sync.simulator_support import SimulatorProcess, set_faults, simulator_process, stats

LABEL = "casereg national-database simulator - not the Government Inspectorate"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatorProcess]:
    with simulator_process(tmp_path, seed=7) as process:
        yield process


def put(
    url: str, record_id: str, version: int, payload: Any, *, previous: int | None = None, **kw: Any
) -> httpx.Response:
    body = {"version": version, "previous_version": version - 1 if previous is None else previous, "payload": payload}
    headers = {"Idempotency-Key": f"52:case:{record_id}:{version}", **kw.pop("headers", {})}
    return httpx.put(
        f"{url}/v1/provinces/52/records/{kw.pop('kind', 'case')}/{record_id}/versions/{version}",
        json=body,
        headers=headers,
        timeout=kw.pop("timeout", 10.0),
    )


def test_stores_in_order_answers_duplicates_and_refuses_gaps(sim: SimulatorProcess) -> None:
    first = put(sim.url, "c1", 1, {"status": "received"})
    assert first.status_code == 201, first.text
    assert first.headers["X-Simulator"] == LABEL
    assert put(sim.url, "c1", 1, {"status": "received"}).status_code == 200  # the same content again
    gap = put(sim.url, "c1", 3, {"status": "accepted"})
    assert (gap.status_code, gap.json()["held_version"]) == (409, 1)
    assert put(sim.url, "c1", 2, {"status": "accepted"}).status_code == 201
    back = put(sim.url, "c1", 1, {"status": "something else"})  # a step back with other content
    assert (back.status_code, back.json()["held_version"]) == (409, 2)
    new = put(sim.url, "c2", 2, {"status": "x"})  # a first version that is not 1
    assert (new.status_code, new.json()["held_version"]) == (409, 0)

    record = httpx.get(f"{sim.url}/v1/provinces/52/records/case/c1").json()
    assert record["latest_version"] == 2
    assert [(v["version"], v["payload"]) for v in record["versions"]] == [
        (1, {"status": "received"}),
        (2, {"status": "accepted"}),
    ]
    missing = httpx.get(f"{sim.url}/v1/provinces/52/records/case/c2")
    assert missing.status_code == 404
    assert missing.headers["X-Simulator"] == LABEL
    assert httpx.get(f"{sim.url}/v1/provinces/07/records/case/c1").status_code == 404  # per province

    counted = stats(sim.url)
    assert {k: counted[k] for k in ("requests", "accepted", "duplicates", "conflicts", "rejected")} == {
        "requests": 9,
        "accepted": 2,
        "duplicates": 1,
        "conflicts": 3,
        "rejected": 0,
    }
    assert counted["accepted_out_of_order"] == counted["accepted_repeated"] == 0
    assert counted["records"] == {"case": 1}
    assert counted["versions"] == {"case": 2}
    assert counted["simulator"] == LABEL


@pytest.mark.parametrize(
    ("path_version", "body", "headers"),
    [
        (1, {"version": 1, "previous_version": 0}, {}),  # no payload
        (1, {"version": 1, "previous_version": 0, "payload": {"amount": 1.5}}, {}),  # a float
        (1, {"version": "1", "previous_version": 0, "payload": {}}, {}),  # a string for a number
        (2, {"version": 1, "previous_version": 0, "payload": {}}, {}),  # path and body differ
        (2, {"version": 2, "previous_version": 0, "payload": {}}, {}),  # previous is not version - 1
        (1, {"version": 1, "previous_version": 0, "payload": {}}, {"Idempotency-Key": ""}),
        (1, {"version": 1, "previous_version": 0, "payload": {}, "extra": 1}, {}),
    ],
)
def test_malformed_bodies_are_422_and_store_nothing(
    sim: SimulatorProcess, path_version: int, body: dict[str, Any], headers: dict[str, str]
) -> None:
    response = httpx.put(
        f"{sim.url}/v1/provinces/52/records/case/c1/versions/{path_version}",
        content=json.dumps(body),
        headers={"Idempotency-Key": "k", **headers},
    )
    assert response.status_code == 422, response.text
    assert "1.5" not in response.text  # values are never echoed
    counted = stats(sim.url)
    assert (counted["rejected"], counted["accepted"], counted["records"]) == (1, 0, {})


def test_an_unknown_kind_is_422(sim: SimulatorProcess) -> None:
    assert put(sim.url, "c1", 1, {}, kind="petition").status_code == 422


def test_a_configured_token_is_required(tmp_path: Path) -> None:
    with simulator_process(tmp_path, token="s3cret") as process:
        assert put(process.url, "c1", 1, {}).status_code == 401
        assert put(process.url, "c1", 1, {}, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(f"{process.url}/v1/provinces/52/records").status_code == 401
        assert put(process.url, "c1", 1, {}, headers={"Authorization": "Bearer s3cret"}).status_code == 201
        counted = stats(process.url)
        assert (counted["unauthorized"], counted["accepted"]) == (3, 1)


def test_reconciliation_pages_through_every_head(sim: SimulatorProcess) -> None:
    payloads = {f"r{i}": {"n": i, "text": "Lê Thị Mai"} for i in range(5)}
    for record_id, payload in payloads.items():
        assert put(sim.url, record_id, 1, {"n": -1}).status_code == 201
        assert put(sim.url, record_id, 2, payload).status_code == 201
    assert put(sim.url, "e1", 1, {"n": 9}, kind="reception").status_code == 201

    items: list[dict[str, Any]] = []
    after: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, "kind": "case", **({"after": after} if after else {})}
        page = httpx.get(f"{sim.url}/v1/provinces/52/records", params=params).json()
        items += page["items"]
        pages += 1
        after = page["next"]
        if after is None:
            break
    assert pages == 3
    assert [i["record_id"] for i in items] == sorted(payloads)
    for item in items:
        assert item["kind"] == "case" and item["latest_version"] == 2
        assert item["payload_sha256"] == hashlib.sha256(canonical_bytes(payloads[item["record_id"]])).hexdigest()
    everything = httpx.get(f"{sim.url}/v1/provinces/52/records").json()
    assert [i["kind"] for i in everything["items"]] == ["case"] * 5 + ["reception"]
    assert everything["next"] is None
    assert httpx.get(f"{sim.url}/v1/provinces/07/records").json() == {"items": [], "next": None}


def test_error_fault_answers_500_and_stores_nothing(sim: SimulatorProcess) -> None:
    assert set_faults(sim.url, error_rate=1.0)["error_rate"] == 1.0
    assert put(sim.url, "c1", 1, {}).status_code == 500
    assert httpx.get(f"{sim.url}/v1/provinces/52/records").status_code == 500
    set_faults(sim.url, error_rate=0.0)
    assert httpx.get(f"{sim.url}/v1/provinces/52/records/case/c1").status_code == 404
    counted = stats(sim.url)
    assert counted["faults"]["error"] == 2
    assert counted["accepted"] == 0


def test_latency_fault_delays_every_answer(sim: SimulatorProcess) -> None:
    set_faults(sim.url, latency_ms=300)
    with pytest.raises(httpx.ReadTimeout):
        put(sim.url, "c1", 1, {}, timeout=0.05)
    assert put(sim.url, "c2", 1, {}).status_code == 201
    assert stats(sim.url)["faults"]["latency"] == 2


def test_timeout_fault_hangs_past_the_client_and_stores_nothing(sim: SimulatorProcess) -> None:
    set_faults(sim.url, timeout_rate=1.0, timeout_ms=3000)
    with pytest.raises(httpx.ReadTimeout):
        put(sim.url, "c1", 1, {}, timeout=0.5)
    set_faults(sim.url, timeout_rate=0.0)
    assert httpx.get(f"{sim.url}/v1/provinces/52/records/case/c1").status_code == 404
    assert stats(sim.url)["faults"]["timeout"] == 1


def test_duplicate_ack_fault_stores_then_answers_500(sim: SimulatorProcess) -> None:
    set_faults(sim.url, duplicate_ack_rate=1.0)
    assert put(sim.url, "c1", 1, {"a": "b"}).status_code == 500
    assert put(sim.url, "c1", 1, {"a": "b"}).status_code == 200  # the retry learns it is held
    record = httpx.get(f"{sim.url}/v1/provinces/52/records/case/c1").json()
    assert [v["version"] for v in record["versions"]] == [1]
    counted = stats(sim.url)
    assert (counted["accepted"], counted["duplicates"], counted["faults"]["duplicate_ack"]) == (1, 1, 1)


def test_outage_refuses_records_and_reconciliation_but_not_the_controls(sim: SimulatorProcess) -> None:
    set_faults(sim.url, outage=True)
    assert put(sim.url, "c1", 1, {}).status_code == 503
    assert httpx.get(f"{sim.url}/v1/provinces/52/records").status_code == 503
    assert httpx.get(f"{sim.url}/v1/provinces/52/records/case/c1").status_code == 503
    assert httpx.get(f"{sim.url}/v1/simulator/health").status_code == 200
    assert httpx.get(f"{sim.url}/v1/simulator/faults").json()["outage"] is True
    assert stats(sim.url)["faults"]["outage"] == 3
    set_faults(sim.url, outage=False)
    assert put(sim.url, "c1", 1, {}).status_code == 201


def test_faults_are_validated_and_changed_one_at_a_time(sim: SimulatorProcess) -> None:
    set_faults(sim.url, error_rate=0.25, latency_ms=5)
    assert httpx.put(f"{sim.url}/v1/simulator/faults", json={"error_rate": 2}).status_code == 422
    assert httpx.put(f"{sim.url}/v1/simulator/faults", json={"typo": 1}).status_code == 422
    now = set_faults(sim.url, outage=False)
    assert (now["error_rate"], now["latency_ms"], now["outage"]) == (0.25, 5, False)


def test_faults_from_the_command_line_and_seeded(tmp_path: Path) -> None:
    """The same seed gives the same pattern of injected errors."""
    patterns = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        with simulator_process(tmp_path / run, seed=42, error_rate=0.5) as process:
            patterns.append([put(process.url, f"c{i}", 1, {}).status_code for i in range(20)])
    assert patterns[0] == patterns[1]
    assert set(patterns[0]) == {201, 500}


def test_data_survives_a_restart(sim: SimulatorProcess) -> None:
    assert put(sim.url, "c1", 1, {"a": "1"}).status_code == 201
    assert put(sim.url, "c1", 2, {"a": "2"}).status_code == 201
    sim.restart()
    assert put(sim.url, "c1", 2, {"a": "2"}).status_code == 200
    assert put(sim.url, "c1", 2, {"a": "other"}).status_code == 409
    assert put(sim.url, "c1", 3, {"a": "3"}).status_code == 201
    record = httpx.get(f"{sim.url}/v1/provinces/52/records/case/c1").json()
    assert [v["version"] for v in record["versions"]] == [1, 2, 3]
    assert stats(sim.url)["versions"] == {"case": 3}


def test_invariant_counters_are_computed_from_the_stored_history(sim: SimulatorProcess) -> None:
    """What a bug would leave behind — a version accepted twice, a version after a gap — shows in the stats."""
    assert put(sim.url, "c1", 1, {}).status_code == 201
    assert put(sim.url, "c1", 2, {}).status_code == 201
    sim.stop()
    with sqlite3.connect(sim.database) as db:  # the simulator's own file, in this test's directory
        row = "INSERT INTO received (province, kind, record_id, version, previous_version, payload, payload_sha256,"
        row += " idempotency_key, received_at) VALUES ('52', 'case', ?, ?, ?, '{}', 'x', 'k', 'now')"
        db.execute(row, ("c1", 2, 1))  # repeated
        db.execute(row, ("c9", 2, 1))  # first seen at 2: out of order
    sim.start()
    counted = stats(sim.url)
    assert counted["accepted_repeated"] == 1
    assert counted["accepted_out_of_order"] == 2  # the repeat does not follow its predecessor either


def test_stops_at_once_even_while_a_simulated_timeout_hangs(sim: SimulatorProcess) -> None:
    set_faults(sim.url, timeout_rate=1.0, timeout_ms=120_000)
    with pytest.raises(httpx.ReadTimeout):
        put(sim.url, "c1", 1, {}, timeout=0.5)
    sim.stop(timeout=60)  # SIGTERM; SIGKILL only if it has not exited by then
    assert sim.proc is not None
    assert sim.proc.returncode in (0, -signal.SIGTERM), sim.log()  # uvicorn re-raises the SIGTERM it handled
    assert "Finished server process" in sim.log()
