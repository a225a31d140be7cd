"""The supervisor's status file, ``<var_dir>/run/supervisor.json``: what runs, under which pid, in what state.

Written atomically (a temporary file renamed over the old one) on every change, so a reader never sees half.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel


class State(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    BACKOFF = "backoff"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class ServiceStatus(BaseModel):
    name: str
    pid: int | None = None
    state: State = State.STARTING
    restarts: int = 0
    started_at: datetime | None = None
    last_exit_code: int | None = None
    #: Set for a supervised process that is not a NATS service: its health is asked over HTTP here.
    health_url: str | None = None


class NatsStatus(BaseModel):
    pid: int | None
    url: str
    monitor_url: str


class SupervisorStatus(BaseModel):
    supervisor_pid: int
    state: State
    province: str
    var_dir: str
    started_at: datetime
    updated_at: datetime
    nats: NatsStatus | None = None
    services: dict[str, ServiceStatus] = {}


def status_path(var_dir: Path) -> Path:
    return var_dir / "run" / "supervisor.json"


def write_status(path: Path, status: SupervisorStatus) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".supervisor-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(status.model_dump_json(indent=2))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_status(path: Path) -> SupervisorStatus:
    return SupervisorStatus.model_validate_json(path.read_bytes())


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this pid exists and is not a zombie."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"
