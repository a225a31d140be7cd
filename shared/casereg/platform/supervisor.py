"""``casereg up``: the embedded default on one machine, under one supervisor.

Order of start: credentials, the embedded ``nats-server``, provisioning of the log (admin user),
migrations, then every service of the ``casereg.services`` entry-point group as its own OS process, and every
extra process of the ``casereg.processes`` group (:mod:`casereg.platform.processes`, e.g. the national-database
simulator in development) the same way. Each
service's output is prefixed with its name; a service that exits is restarted with exponential backoff (0.5 s
doubling to 30 s, back to 0.5 s after a minute of running). On SIGINT/SIGTERM the services get SIGTERM
(SIGKILL after a timeout), then NATS stops. ``<var_dir>/run/supervisor.json`` records every pid and state
(:mod:`casereg.platform.status_file`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TextIO

import structlog

from casereg.platform import credentials
from casereg.platform.connect import connect
from casereg.platform.credentials import ADMIN_USER
from casereg.platform.embedded import EmbeddedSettings, embedded_server
from casereg.platform.nats_embedded import EmbeddedNats
from casereg.platform.processes import ExtraProcess
from casereg.platform.service import SUPERVISOR_PID_ENV
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
from casereg.settings import PlatformSettings

log = structlog.get_logger("casereg.supervisor")

_COLORS = ("36", "33", "35", "32", "34", "31", "96", "93")
_LINE_LIMIT = 1 << 20


@dataclass(frozen=True)
class Backoff:
    """Delays between restarts of a crashed service."""

    initial: float = 0.5
    cap: float = 30.0
    reset_after: float = 60.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * 2, self.cap)


class SupervisorError(RuntimeError):
    """A start-up failure meant for the person at the terminal."""


class AlreadyRunning(SupervisorError):
    pass


async def provision_log(settings: PlatformSettings) -> None:
    """Create or check the log's streams as the admin user (the only time that user connects)."""
    from casereg.log.provision import provision

    nc = await connect(settings, ADMIN_USER, name="casereg-provision")
    try:
        await provision(nc, settings)
    finally:
        await nc.close()


def run_migrations(settings: PlatformSettings) -> None:
    from casereg.db import migrate_all

    migrate_all(settings)


class Supervisor:
    def __init__(
        self,
        settings: PlatformSettings,
        embedded: EmbeddedSettings,
        services: list[str],
        *,
        processes: Sequence[ExtraProcess] = (),
        stop_timeout: float = 10.0,
        backoff: Backoff | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.settings = settings
        self.embedded = embedded
        self.extra = {p.name: p for p in processes}
        #: Every supervised process: the services, then the extra processes (casereg.platform.processes).
        self.services = [*services, *self.extra]
        self.stop_timeout = stop_timeout
        self.backoff = backoff or Backoff()
        self.out = out or sys.stdout
        self.color = self.out.isatty()
        self.width = max((len(n) for n in self.services), default=0)
        self.stopping = asyncio.Event()
        self.exit_code = 0
        self.nats: EmbeddedNats | None = None
        now = datetime.now(UTC)
        self.status = SupervisorStatus(
            supervisor_pid=os.getpid(),
            state=State.STARTING,
            province=settings.province,
            var_dir=str(settings.var_dir),
            started_at=now,
            updated_at=now,
            services={
                name: ServiceStatus(name=name, health_url=p.health_url if (p := self.extra.get(name)) else None)
                for name in self.services
            },
        )
        self.status_file = status_path(settings.var_dir)

    # --- status ------------------------------------------------------------------------------------------

    def _save(self) -> None:
        self.status.updated_at = datetime.now(UTC)
        write_status(self.status_file, self.status)

    def _set_state(self, state: State) -> None:
        self.status.state = state
        self._save()

    # --- lifecycle ---------------------------------------------------------------------------------------

    def request_stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stop requested")
            self.stopping.set()

    async def run(self) -> int:
        """Start everything, supervise until asked to stop, stop everything; the process's exit code."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_stop)
        tasks: list[asyncio.Task[None]] = []
        try:
            with self._lock():
                try:
                    await self._reap_stale_nats()
                    self._save()
                    await self._start_platform()
                    if not self.stopping.is_set():
                        tasks = [asyncio.create_task(self._supervise(name)) for name in self.services]
                        tasks.append(asyncio.create_task(self._watch_nats()))
                        self._set_state(State.RUNNING)
                        log.info("running", services=self.services, nats_url=self.settings.nats_url)
                    await self.stopping.wait()
                except BaseException:
                    self.exit_code = 1
                    raise
                finally:
                    self.stopping.set()
                    self._set_state(State.STOPPING)
                    await asyncio.gather(*tasks, return_exceptions=True)
                    self._stop_nats()
                    self._set_state(State.STOPPED if self.exit_code == 0 else State.FAILED)
                    log.info("stopped", exit_code=self.exit_code)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        return self.exit_code

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One supervisor per var directory."""
        path = self.status_file.with_name("supervisor.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a+") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise AlreadyRunning(f"another `casereg up` is running on {self.settings.var_dir}") from None
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    async def _reap_stale_nats(self) -> None:
        """Stop the nats-server of a previous supervisor that was SIGKILLed (its services stop themselves)."""
        try:
            previous = read_status(self.status_file)
        except (FileNotFoundError, ValueError):
            return
        pid = previous.nats.pid if previous.nats else None
        config = self.settings.var_dir / "nats" / "nats-server.conf"
        if pid is None or not pid_alive(pid) or not _runs_config(pid, config):
            return
        log.warning("stopping the nats-server a previous run left behind", pid=pid)
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await _exited(pid)
                return
        raise SupervisorError(f"nats-server {pid} from a previous run does not stop")

    async def _start_platform(self) -> None:
        creds = credentials.load_or_create(self.settings.var_dir)
        self.nats = embedded_server(self.settings, self.embedded, creds)
        log.info("starting nats", url=self.nats.url, store=str(self.nats.options.store_dir))
        try:
            await asyncio.to_thread(self.nats.start)
        except (RuntimeError, TimeoutError, FileNotFoundError) as exc:
            raise SupervisorError(f"embedded NATS did not start: {exc}") from exc
        process = self.nats.process
        self.status.nats = NatsStatus(
            pid=process.pid if process else None, url=self.nats.url, monitor_url=self.nats.monitor_url
        )
        self._save()
        if self.stopping.is_set():
            return
        log.info("provisioning the log")
        await provision_log(self.settings)
        if self.stopping.is_set():
            return
        log.info("running migrations")
        await asyncio.to_thread(run_migrations, self.settings)

    def _stop_nats(self) -> None:
        if self.nats is not None:
            log.info("stopping nats")
            self.nats.stop()

    async def _watch_nats(self) -> None:
        """NATS exiting under running services is fatal: stop everything with a non-zero exit."""
        while not self.stopping.is_set():
            if self.nats is None:
                return
            process = self.nats.process
            if process is not None and process.poll() is not None:
                log.error("nats-server exited", code=process.returncode, see=str(self.nats.log_path))
                self.exit_code = 1
                self.request_stop()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), 0.5)

    # --- services ----------------------------------------------------------------------------------------

    def _child_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CASEREG_NATS_URL": self.settings.nats_url,
            "CASEREG_VAR_DIR": str(self.settings.var_dir),
            "CASEREG_PROVINCE": self.settings.province,
            SUPERVISOR_PID_ENV: str(os.getpid()),
            "PYTHONUNBUFFERED": "1",
            **{k: v for p in self.extra.values() for k, v in p.env.items()},
        }

    def _command(self, name: str) -> tuple[str, ...]:
        if (extra := self.extra.get(name)) is not None:
            return extra.args
        return ("-m", "casereg.platform.service_main", name)

    async def _supervise(self, name: str) -> None:
        status = self.status.services[name]
        delays = self.backoff.delays()
        while not self.stopping.is_set():
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *self._command(name),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
                env=self._child_env(),
                start_new_session=True,
                limit=_LINE_LIMIT,
            )
            started = loop_time()
            status.pid, status.state, status.started_at = proc.pid, State.RUNNING, datetime.now(UTC)
            self._save()
            log.info("service started", service=name, pid=proc.pid)
            assert proc.stdout is not None
            pump = asyncio.create_task(self._pump(name, proc.stdout))
            code = await self._wait_or_stop(proc)
            await pump
            status.pid, status.last_exit_code = None, code
            if self.stopping.is_set():
                status.state = State.STOPPED
                self._save()
                log.info("service stopped", service=name, exit_code=code)
                return
            if loop_time() - started >= self.backoff.reset_after:
                delays = self.backoff.delays()
            delay = next(delays)
            status.state = State.BACKOFF
            self._save()
            log.warning("service exited; restarting", service=name, exit_code=code, delay=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), delay)
            if not self.stopping.is_set():
                status.restarts += 1
        status.state = State.STOPPED
        self._save()

    async def _wait_or_stop(self, proc: asyncio.subprocess.Process) -> int:
        """The process's exit code; on stop, SIGTERM it (its whole group) and SIGKILL after the timeout."""
        exited = asyncio.create_task(proc.wait())
        stop = asyncio.create_task(self.stopping.wait())
        await asyncio.wait({exited, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not exited.done():
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(exited), self.stop_timeout)
            except TimeoutError:
                log.warning("service did not stop in time; killing", pid=proc.pid, timeout=self.stop_timeout)
                _signal_group(proc.pid, signal.SIGKILL)
        return await exited

    async def _pump(self, name: str, stream: asyncio.StreamReader) -> None:
        prefix = f"{name:<{self.width}} | "
        if self.color:
            color = _COLORS[self.services.index(name) % len(_COLORS)]
            prefix = f"\x1b[{color}m{prefix}\x1b[0m"
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # a line longer than the limit: pass what we have
                line = await stream.read(_LINE_LIMIT)
            if not line:
                return
            _write(self.out, prefix + line.decode("utf-8", "replace").rstrip("\n") + "\n")


def _write(out: IO[str], text: str) -> None:
    out.write(text)
    out.flush()


async def _exited(pid: int) -> None:
    """Wait for a process that is not our child to end (Linux pidfd: readable once it has exited)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    gone = asyncio.Event()
    loop.add_reader(fd, gone.set)
    try:
        await gone.wait()
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def _runs_config(pid: int, config: Path) -> bool:
    """Whether process ``pid`` is a nats-server started with ``config`` (guards against a reused pid)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(arg.endswith(b"nats-server") for arg in argv[:1]) and os.fsencode(config) in argv


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def loop_time() -> float:
    return asyncio.get_running_loop().time()


def prepare(settings: PlatformSettings) -> PlatformSettings:
    """Absolute paths (children may run elsewhere) and the var directory in place."""
    var_dir = settings.var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    return settings.model_copy(update={"var_dir": var_dir})


def default_status_file(settings: PlatformSettings) -> Path:
    return status_path(settings.var_dir.resolve())
