"""National sync end to end (issue 9 acceptance): the whole system as ``casereg up`` runs it, the real simulator
process behind the real HTTP adapter, petitions through intake (``casereg dev seed``).

- 1,000 petitions while the national side is down, then failing 20% of requests, with the sync process SIGKILLed
  mid-run and restarted: every case's latest version arrives, in order, no version accepted twice or out of
  order, and ``casereg sync reconcile`` reports zero differences.
- after a burst of 100 petitions ``casereg sync status`` reports zero backlog within 15 s.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.national_sync.simulator_support import SimulatorProcess, set_faults, simulator_process, stats
from tests.platform.test_e2e import CASEREG, System, until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: Short limits so that failures are retried within seconds (the defaults suit a real national side).
FAST_RETRIES = {
    "CASEREG_SIMULATOR": "off",
    "CASEREG_NATIONAL_SYNC_RETRY_ATTEMPTS": "3",
    "CASEREG_NATIONAL_SYNC_RETRY_INITIAL": "0.02",
    "CASEREG_NATIONAL_SYNC_RETRY_MAX": "0.2",
    "CASEREG_NATIONAL_SYNC_BREAKER_FAILURES": "20",
    "CASEREG_NATIONAL_SYNC_BREAKER_RECOVERY": "1",
    "CASEREG_NATIONAL_SYNC_BACKOFF_INITIAL": "0.2",
    "CASEREG_NATIONAL_SYNC_BACKOFF_MAX": "2",
    "CASEREG_NATIONAL_SYNC_PUSHERS": "8",
    "CASEREG_NATIONAL_SYNC_POLL_INTERVAL": "0.2",
}


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[SimulatorProcess]:
    (tmp_path / "sim").mkdir()
    with simulator_process(tmp_path / "sim", seed=55) as process:
        yield process


@pytest.fixture
def system(tmp_path: Path, simulator: SimulatorProcess) -> Iterator[System]:
    system = System(tmp_path)
    system.env |= FAST_RETRIES | {"CASEREG_NATIONAL_SYNC_NATIONAL_URL": simulator.url}
    system.env["CASEREG_NATS_URL"] = f"nats://127.0.0.1:{system.env['CASEREG_EMBEDDED_NATS_PORT']}"  # for the CLI
    yield system
    system.kill_everything()


def casereg(system: System, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CASEREG, *args],
        env=system.env,
        cwd=system.var_dir.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def seed(system: System, n: int, seed_value: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [CASEREG, "dev", "seed", str(n), "--seed", str(seed_value)],
        env=system.env,
        cwd=system.var_dir.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finished(proc: subprocess.Popen[bytes], timeout: float = 600) -> None:
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode(errors="replace")


def sync_status(system: System) -> dict[str, Any]:
    done = casereg(system, "sync", "status", "--json", timeout=60)
    assert done.returncode == 0, done.stderr
    status: dict[str, Any] = json.loads(done.stdout)
    return status


def caught_up(system: System, at_least: int) -> dict[str, Any] | None:
    """The ledger has every event of the log and nothing is waiting to be pushed."""
    status = sync_status(system)
    ledger, lag = status["ledger"], status["lag"]
    quiet = lag is not None and lag["consumer_pending"] == 0 and ledger["backlog"] == 0
    return status if quiet and ledger["pushed"] >= at_least else None


def sync_pid(system: System) -> int:
    view = system.status()
    pid: int = view["services"]["national-sync"]["pid"]
    return pid


def test_a_burst_of_100_petitions_leaves_no_backlog_within_15_seconds(system: System) -> None:
    system.up()
    until(system.healthy, 120, "all services healthy")
    finished(seed(system, 100, 11))
    status = until(lambda: caught_up(system, 100), 15, "zero backlog after 100 petitions")
    assert status["ledger"]["rejected"] == 0 and status["ledger"]["oldest_pending_age_s"] is None


@pytest.mark.timeout(900)  # 1,000 petitions through the whole system: more than the default 300 s on a busy machine
def test_outage_errors_and_a_killed_sync_process_still_give_zero_differences(
    system: System, simulator: SimulatorProcess
) -> None:
    set_faults(simulator.url, outage=True)
    system.up()
    until(system.healthy, 120, "all services healthy")

    # Down: the first 500 petitions pile up in the ledger, their pushes failing and backing off.
    finished(seed(system, 500, 21))
    until(
        lambda: ((s := sync_status(system))["ledger"]["backlog"] >= 500 and s["ledger"]["failing"] > 0) or None,
        120,
        "failures recorded while the national side is down",
    )
    assert stats(simulator.url)["faults"]["outage"] > 0

    # Up again but failing 20% of requests; 500 more petitions, and the sync process killed in the middle.
    set_faults(simulator.url, outage=False, error_rate=0.2)
    more = seed(system, 500, 22)
    until(lambda: sync_status(system)["ledger"]["pushed"] >= 300 or None, 180, "pushing under errors")
    victim = sync_pid(system)
    os.kill(victim, signal.SIGKILL)
    until(
        lambda: ((v := system.healthy()) is not None and v["services"]["national-sync"]["pid"] != victim) or None,
        90,
        "national-sync restarted",
    )
    finished(more)

    until(lambda: caught_up(system, 1000), 420, "everything pushed after recovery")
    # Routing and escalation react a little later than intake: wait until the log stops growing and all is pushed.
    last: dict[str, Any] = {}

    def settled() -> bool | None:
        status = caught_up(system, 1000)
        if status is None:
            return None
        stable = status["lag"]["stream_last"] == last.get("stream_last")
        last["stream_last"] = status["lag"]["stream_last"]
        return stable or None

    until(settled, 120, "the log quiet and everything pushed")
    counters = stats(simulator.url)
    assert counters["accepted_out_of_order"] == 0 and counters["accepted_repeated"] == 0
    assert counters["faults"]["error"] > 0  # the 20% did happen

    set_faults(simulator.url, error_rate=0.0)  # recovered
    done = casereg(system, "sync", "reconcile", "--json", timeout=300)
    report = json.loads(done.stdout)
    assert report["differences"] == [], done.stdout[:4000]
    assert done.returncode == 0, done.stderr
    assert counters["records"]["case"] == 1000
