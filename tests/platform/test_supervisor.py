"""Pieces of the supervisor that need no processes: backoff, the status file, pid liveness."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from casereg.platform.status_file import (
    NatsStatus,
    ServiceStatus,
    State,
    SupervisorStatus,
    pid_alive,
    read_status,
    status_path,
    write_status,
)
from casereg.platform.supervisor import Backoff


def test_backoff_doubles_from_half_a_second_to_thirty() -> None:
    delays = list(itertools.islice(Backoff().delays(), 9))
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert Backoff().reset_after == 60.0


def test_status_file_round_trips_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    status = SupervisorStatus(
        supervisor_pid=os.getpid(),
        state=State.RUNNING,
        province="52",
        var_dir=str(tmp_path),
        started_at=now,
        updated_at=now,
        nats=NatsStatus(pid=123, url="nats://127.0.0.1:14222", monitor_url="http://127.0.0.1:18222"),
        services={"intake": ServiceStatus(name="intake", pid=456, state=State.RUNNING, restarts=2)},
    )
    path = status_path(tmp_path)
    write_status(path, status)
    write_status(path, status.model_copy(update={"state": State.STOPPING}))
    assert read_status(path) == status.model_copy(update={"state": State.STOPPING})
    assert [p.name for p in path.parent.iterdir()] == ["supervisor.json"]


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(None)
    assert not pid_alive(0)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)


def test_a_zombie_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not yet reaped
        assert not pid_alive(child.pid)
    finally:
        child.wait()
