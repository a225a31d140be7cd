"""The benchmark code paths at a tiny size, so they cannot rot. Benchmarks are not tests: nothing here asserts a
speed, only that every scenario runs, checks its own work, and reports in the agreed shape."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from casereg.log.canonical import genesis_hash
from casereg.log.commit import StoredCommit, encode_commit
from casereg.log.events import NewEvent
from casereg.log.raw import RawMessage
from casereg.log.store import Head
from casereg.log.verify import verify_messages
from rich.console import Console

from bench.cli import main
from bench.data import BENCH_TIME, CommitTemplate, case_id, event_id, offline_log, person_id
from bench.model import Row, Status, max_value, min_ratio
from bench.scenarios import discover

MEASURED = (1, 2, 3, 4, 5)
ROW_KEYS = {"label", "unit", "project", "raw", "ratio", "higher_is_better", "goals", "goal", "met", "note", "details"}


def run_bench(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["run", "--profile", "smoke", *args], console=Console(file=out, width=200, color_system=None))
    return code, out.getvalue()


def scenario(results: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in results["scenarios"] if s["key"] == key)
    return found


def test_every_scenario_is_listed_and_measurable() -> None:
    scenarios = {s.number: s for s in discover()}
    assert sorted(scenarios) == [1, 2, 3, 4, 5]
    assert all(scenarios[n].run is not None for n in MEASURED)


def test_ratio_means_project_speed_over_raw_speed_for_throughput_and_latency() -> None:
    throughput = Row("t", "msg/s", project=350.0, raw=1000.0, goals=(min_ratio(0.5),))
    assert throughput.ratio == pytest.approx(0.35)
    assert throughput.met is False
    latency = Row("l", "ms", project=2.0, raw=1.0, higher_is_better=False, goals=(max_value(5, "ms"),))
    assert latency.ratio == pytest.approx(0.5)
    assert latency.met is True
    assert Row("n", "MB", project=10.0).met is None
    assert Row("s", "msg/s", project=None, goals=(min_ratio(0.5),)).met is None


def test_fill_template_is_byte_for_byte_what_the_log_client_writes() -> None:
    province, seed = "t1", 7
    cid, pid = case_id(seed, 3), person_id(seed, 3)
    first, first_hash = CommitTemplate.build(province, 0).render(cid, event_id(seed, 3, 0), pid, genesis_hash(cid))
    second, _ = CommitTemplate.build(province, 1).render(cid, event_id(seed, 3, 1), pid, first_hash)

    log = offline_log(province)
    head = Head.genesis(cid)
    for seq, data in enumerate((first, second), 1):
        stored = StoredCommit.decode(seq, f"reg.{province}.case.{cid}", None, data)
        (envelope,) = stored.events
        assert envelope.recorded_at == BENCH_TIME
        assert pid in json.dumps(envelope.payload)
        again = NewEvent(
            envelope.event_id,
            envelope.type,
            envelope.schema_version,
            envelope.payload,
            envelope.occurred_at,
            envelope.actor,
            envelope.causation_id,
            envelope.correlation_id,
        )
        sealed = log.seal_events(stored.aggregate, [again], head)
        assert encode_commit(sealed) == data
        head = Head(seq, envelope.seq, envelope.hash, envelope.recorded_at)

    subject = f"reg.{province}.case.{cid}"
    report = verify_messages([RawMessage(1, subject, first), RawMessage(2, subject, second)])
    assert report.ok, report.breaks


def test_smoke_run_prints_the_table_and_writes_the_results(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    code, printed = run_bench("--output", str(output), "--pg-url", "", "--work-dir", str(tmp_path / "work"))
    assert code == 0, printed
    results = json.loads(output.read_text())

    assert results["format"] == "casereg.bench/1"
    assert results["profile"] == "smoke"
    assert {"nproc", "cpu_model", "memory_gb"} <= results["machine"].keys()
    versions = results["versions"]
    assert versions["nats_server"] and versions["nats_server_source"] == "/varz"
    assert versions["python"]
    assert versions["libraries"]["nats-py"] and versions["libraries"]["sqlalchemy"]
    assert {s["sync_always"] for s in results["servers"]} == {True, False}

    assert [s["number"] for s in results["scenarios"]] == [1, 2, 3, 4, 5]
    for s in results["scenarios"]:
        assert s["status"] == Status.RAN, s["error"]
        for row in s["rows"]:
            assert row.keys() == ROW_KEYS

    append = scenario(results, "append")
    assert [r["goal"] for r in append["rows"]] == ["≥ 0.7×", ""]
    for row in append["rows"]:
        assert row["project"] > 0 and row["raw"] > 0 and row["ratio"] > 0
        assert row["met"] in (True, False, None)
        assert row["details"]["chain_verified"]
    assert append["details"]["client_cpu_breakdown"]

    rebuild = scenario(results, "rebuild")
    sqlite, pg = rebuild["rows"]
    assert sqlite["details"]["rows_identical"] and sqlite["ratio"] > 0
    assert pg["project"] is None and pg["note"].startswith("skipped")

    load = scenario(results, "case_load")
    p50, *p99s, rss = load["rows"]
    assert [r["details"]["pass"] for r in p99s] == ["warm", "cold", "paced"]
    for row in p99s:
        assert row["goal"] == "< 5 ms" and row["met"] in (True, False)
        assert row["details"]["project"]["n"] == row["details"]["raw"]["n"] > 0
    assert p50["project"] > 0 and p50["raw"] > 0
    assert rss["unit"] == "MB" and rss["project"] > 0
    assert load["details"]["memory_mb"]["after_fill"]["VmRSS"] > 0

    intake = scenario(results, "intake_http")
    throughput, p50, p99 = intake["rows"]
    assert throughput["goal"] == "≥ 0.5× and ≥ 100 petitions/s" and throughput["met"] in (True, False)
    assert throughput["project"] > 0 and throughput["raw"] > 0
    project = throughput["details"]["project"]
    assert project["errors"] == {} and project["successes_total"] == project["requests_total"] > 0
    assert project["stream_messages"] >= project["successes_total"]  # every answered petition is a case in the log
    assert project["intake_exit_code"] == 0  # the service process stopped cleanly on SIGTERM
    for row in (p50, p99):
        assert row["unit"] == "ms" and row["project"] > 0 and row["raw"] > 0 and not row["higher_is_better"]

    pipeline = scenario(results, "pipeline_latency")
    p50, _p95, p99, _deadline, national = pipeline["rows"]
    assert [r["goal"] for r in pipeline["rows"]] == ["", "", "< 100 ms", "", "< 1000 ms"]
    for row in pipeline["rows"]:
        assert row["unit"] == "ms" and row["project"] > 0 and not row["higher_is_better"]
    assert p50["raw"] > 0 and p99["raw"] > 0 and p99["met"] in (True, False) and national["met"] in (True, False)
    (measured,) = pipeline["details"]["passes"]
    assert measured["errors"] == {} and measured["accepted"] == measured["requests"] > 0
    # Every accepted petition reached every stage: proposal, first deadline, national record version 1.
    assert measured["never_reached"] == {} and measured["drained"]
    assert set(measured["reached"].values()) == {measured["accepted"]}
    assert pipeline["details"]["stop"] == {"exit_code": 0, "killed": []}  # casereg up stopped cleanly on SIGINT
    for text in (
        "scenario",
        "ratio",
        "met/short",
        "1 append, sync always",
        "3 intake over HTTP, sync always",
        "4 pipeline: sent → proposal p99",
        "4 pipeline: sent → national ack p99",
        "5 case load p99, warm",
    ):
        assert text in printed


@pytest.mark.postgres
def test_rebuild_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    output = tmp_path / "latest.json"
    code, printed = run_bench("--only", "rebuild", "--output", str(output), "--pg-url", pg_url)
    assert code == 0, printed
    (rebuild,) = json.loads(output.read_text())["scenarios"]
    _sqlite, pg = rebuild["rows"]
    assert pg["label"] == "rebuild heads, PostgreSQL"
    assert pg["project"] > 0 and pg["raw"] > 0 and pg["details"]["rows_identical"]
    assert rebuild["details"]["postgresql"]
