"""`casereg up` as a user runs it: every service healthy, a SIGKILLed service restarted, Ctrl-C leaves nothing.

Polls `casereg status --json` with deadlines; never sleeps and hopes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from casereg.platform.nats_embedded import free_port
from casereg.platform.status_file import pid_alive, read_status, status_path

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SERVICES = {"escalation", "intake", "national-sync", "routing", "national-sim"}  # the simulator in development
CASEREG = str(Path(sys.executable).parent / "casereg")
T = TypeVar("T")


def until(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.25)


class System:
    def __init__(self, tmp_path: Path) -> None:
        self.var_dir = tmp_path / "var"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEREG_", "OTEL_"))}
        self.env |= {
            "CASEREG_VAR_DIR": str(self.var_dir),
            "CASEREG_EMBEDDED_NATS_PORT": str(free_port()),
            "CASEREG_EMBEDDED_NATS_MONITOR_PORT": str(free_port()),
            "CASEREG_INTAKE_HTTP_PORT": str(free_port()),
            "CASEREG_SIMULATOR_PORT": str(free_port()),
        }
        self.output = tmp_path / "up.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.seen_pids: set[int] = set()

    def up(self) -> None:
        with self.output.open("wb") as out:
            self.proc = subprocess.Popen(
                [CASEREG, "up", "--stop-timeout", "10"],
                env=self.env,
                cwd=self.var_dir.parent,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def status(self) -> dict[str, Any]:
        done = subprocess.run(
            [CASEREG, "status", "--json", "--timeout", "1"],
            env=self.env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        view: dict[str, Any] = json.loads(done.stdout)
        assert done.returncode == (0 if view["healthy"] else 1), done.stderr
        self._remember(view)
        return view

    def _remember(self, view: dict[str, Any]) -> None:
        for process in (view.get("supervisor"), view.get("nats"), *view.get("services", {}).values()):
            if process and process.get("pid"):
                self.seen_pids.add(process["pid"])

    def healthy(self) -> dict[str, Any] | None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"casereg up exited with {self.proc.returncode}:\n{self.log()}")
        view = self.status()
        return view if view["healthy"] else None

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def leftovers(self) -> list[int]:
        return sorted(pid for pid in self.seen_pids if pid_alive(pid))

    def kill_everything(self) -> None:
        """Clean-up after a failed test: no process may outlive it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in self.leftovers():
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    system = System(tmp_path)
    yield system
    system.kill_everything()


def test_up_status_restart_and_clean_stop(system: System) -> None:
    system.up()
    view = until(system.healthy, 90, "all services healthy")
    assert set(view["services"]) == SERVICES
    assert all(s["health"]["status"] == "ok" and s["health"]["ready"] for s in view["services"].values())
    simulator = f"http://127.0.0.1:{system.env['CASEREG_SIMULATOR_PORT']}"
    answer = httpx.get(f"{simulator}/v1/simulator/stats", timeout=30)
    assert answer.headers["X-Simulator"].startswith("casereg national-database simulator")
    assert answer.json()["accepted_out_of_order"] == 0
    sync_env = Path(f"/proc/{view['services']['national-sync']['pid']}/environ").read_bytes().split(b"\0")
    assert f"CASEREG_NATIONAL_SYNC_NATIONAL_URL={simulator}".encode() in sync_env

    victim = "routing"
    old_pid = view["services"][victim]["pid"]
    os.kill(old_pid, signal.SIGKILL)

    def restarted() -> dict[str, Any] | None:
        view = system.healthy()
        if view is None:
            return None
        svc = view["services"][victim]
        return view if svc["pid"] != old_pid and svc["restarts"] >= 1 else None

    view = until(restarted, 60, f"{victim} restarted and healthy")
    assert view["services"][victim]["health"]["pid"] == view["services"][victim]["pid"]
    assert all(s["restarts"] == 0 for name, s in view["services"].items() if name != victim)

    status_file = read_status(status_path(system.var_dir))
    system.seen_pids |= {p for p in (status_file.supervisor_pid, status_file.nats and status_file.nats.pid) if p}

    assert system.proc is not None
    system.proc.send_signal(signal.SIGINT)
    assert system.proc.wait(timeout=60) == 0, system.log()

    assert system.leftovers() == []
    final = read_status(status_path(system.var_dir))
    assert final.state == "stopped"
    assert all(s.state == "stopped" and s.pid is None for s in final.services.values())
    output = system.log()
    for name in SERVICES:
        assert f"{name:<13} | " in output
    assert "service exited; restarting" in output

    after = system.status()
    assert not after["healthy"]


def test_a_killed_supervisor_leaves_nothing_behind_after_the_next_up(system: System) -> None:
    """SIGKILL on the supervisor: its services stop by themselves; the next `up` stops the orphaned NATS."""
    system.up()
    view = until(system.healthy, 90, "all services healthy")
    services = {s["pid"] for s in view["services"].values()}
    old_nats = view["nats"]["pid"]
    assert system.proc is not None
    system.proc.kill()
    system.proc.wait()

    until(lambda: all(not pid_alive(pid) for pid in services) or None, 30, "orphaned services stop themselves")

    system.up()
    view = until(system.healthy, 90, "all services healthy after the restart")
    assert view["nats"]["pid"] != old_nats
    assert not pid_alive(old_nats)
    assert "previous run left behind" in system.log()

    system.proc.send_signal(signal.SIGINT)
    assert system.proc.wait(timeout=60) == 0, system.log()
    assert system.leftovers() == []
