"""The real national-database simulator process for tests: on a free port, with its own SQLite file.

``running_simulator(...)`` yields the simulator's base URL; :class:`SimulatorProcess` also restarts it on the same
database and port. ``set_faults(url, ...)`` and ``stats(url)`` talk to its control endpoints.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from casereg.platform.nats_embedded import free_port


class SimulatorProcess:
    def __init__(self, directory: Path, *, token: str = "", seed: int = 0, **faults: Any) -> None:
        self.directory = directory
        self.database = directory / "national-simulator.db"
        self.log_path = directory / "national-simulator.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        self.args = ["--port", str(self.port), "--database", str(self.database), "--seed", str(seed)]
        for name, value in faults.items():
            flag = "--" + name.replace("_", "-")
            if isinstance(value, bool):
                self.args.append(flag if value else "--no-" + flag[2:])
            else:
                self.args += [flag, str(value)]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEREG_", "OTEL_"))}
        if self.token:
            env["CASEREG_SIMULATOR_TOKEN"] = self.token
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "national_sync.simulator", *self.args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"simulator exited with {self.proc.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/v1/simulator/health", timeout=1.0).status_code == 200:
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"simulator not answering within {timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextlib.contextmanager
def simulator_process(
    directory: Path | None = None, *, token: str = "", seed: int = 0, **faults: Any
) -> Iterator[SimulatorProcess]:
    """A started :class:`SimulatorProcess` (in ``directory``, else a temporary one), stopped at the end."""
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="national-sim-")))
        process = SimulatorProcess(directory, token=token, seed=seed, **faults)
        process.start()
        stack.callback(process.stop)
        yield process


@contextlib.contextmanager
def running_simulator(directory: Path | None = None, *, token: str = "", seed: int = 0, **faults: Any) -> Iterator[str]:
    """The base URL of a real simulator process (faults as in ``PUT /v1/simulator/faults``, e.g. error_rate=0.2)."""
    with simulator_process(directory, token=token, seed=seed, **faults) as process:
        yield process.url


def set_faults(url: str, **faults: Any) -> dict[str, Any]:
    """Change some faults (the others stay); the complete fault configuration now in force."""
    response = httpx.put(f"{url}/v1/simulator/faults", json=faults, timeout=10.0)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def stats(url: str) -> dict[str, Any]:
    """The simulator's counters (``GET /v1/simulator/stats``)."""
    response = httpx.get(f"{url}/v1/simulator/stats", timeout=30.0)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result
