"""Scenario 3 — intake over HTTP: durable petitions per second with 64 concurrent clients (load from a second
process) against raw append at the same durability; p50/p99 latency. Goal ≥ 0.5× and never under 100/s.

Project: the real intake service (``python -m casereg.platform.service_main intake``, what ``casereg up`` spawns:
uvicorn, its read-model projections, the SQLite key store and database) in a process of its own, against a
nats-server with the project's configuration (``sync_interval: always``), a provisioned stream and migrated
databases, as ``casereg up`` leaves them. Three agencies with API keys are added first. The load comes from a
third process, :mod:`bench.loadgen`: 64 keep-alive connections, one request at a time each, every request a new
petition with one identity and a fresh ``Idempotency-Key``. Only 201 and 202 answers count; anything else is
reported as an error. Throughput counts the answers that arrive in the measured window (after a warm-up);
latency is that of the requests started in it.

Raw: ``js.publish`` with ``Nats-Expected-Last-Subject-Sequence`` to a new case subject, 64 in flight (64
coroutines, one publish at a time each), of the size a petition stores (its receipt-counter commit plus its case
commit, read back from the project's stream), on the same server.

To find what limits it: ``BENCH_INTAKE_PROFILE=/path/intake.prof`` runs the service under cProfile (main thread
only) and writes the profile there when it stops; ``BENCH_INTAKE_PROBE=/path/stages.json`` runs it through
:mod:`bench.intake_probe` (per-stage timings, worker-thread waits and CPU, event-loop lag). Neither is on by
default: both slow the service down a little.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from casereg.db import KEYSTORE_MIGRATIONS, PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.log.provision import provision
from casereg.platform.credentials import credentials_path
from casereg.platform.nats_embedded import free_port
from casereg.platform.service import SUPERVISOR_PID_ENV
from casereg.settings import PlatformSettings
from intake.adapters.agencies import add_agency

from bench.model import Outcome, Row, RunContext, Scenario, min_ratio, min_value
from bench.servers import BenchServer, process_cpu_seconds
from bench.stats import latency_summary, runs_summary

REPO = Path(__file__).resolve().parents[2]
INTAKE_MIGRATIONS = ("intake.migrations", "alembic_version_intake")
EXPECTED_SEQ = "Nats-Expected-Last-Subject-Sequence"
PROVINCE = "52"  # the intake service loads this province's shipped directory
UNIT = "21583"  # a ward of province 52 in the shipped directory
VIETNAM = timezone(timedelta(hours=7))
SUCCESS = (201, 202)
PROFILE_ENV = "BENCH_INTAKE_PROFILE"
PROBE_ENV = "BENCH_INTAKE_PROBE"
READY_TIMEOUT_S = 90.0
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Size:
    clients: int
    warmup_s: float
    measure_s: float
    raw_publishes: int
    raw_repeats: int


SIZES = {
    "full": Size(clients=64, warmup_s=5.0, measure_s=45.0, raw_publishes=10_000, raw_repeats=3),
    "quick": Size(clients=64, warmup_s=3.0, measure_s=12.0, raw_publishes=3_000, raw_repeats=3),
    "smoke": Size(clients=8, warmup_s=0.5, measure_s=1.5, raw_publishes=200, raw_repeats=1),
}

AGENCIES = (
    ("2tier/52/bench-ubnd-a", "UBND bench A"),
    ("2tier/52/bench-ubnd-b", "UBND bench B"),
    ("2tier/52/bench-tiep-dan", "Ban tiếp công dân bench"),
)


def petition_template(today: str) -> dict[str, Any]:
    """What an agency's front end sends for one petition; the load generator adds one submitter per request."""
    return {
        "channel": "post",
        "received_on": today,
        "declared_kind": "complaint",
        "unit_code": UNIT,
        "subject_matter": {"kind": "decision", "decision_number": "12/QĐ-UBND", "decision_date": "2026-05-02"},
        "summary": "Khiếu nại quyết định thu hồi đất",
        "content": "Tôi không đồng ý với quyết định thu hồi đất số 12/QĐ-UBND.",
    }


def pid_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


# --- the intake service ----------------------------------------------------------------------------------------


@dataclass
class Deployment:
    """What ``casereg up`` would have prepared: var dir, credentials, stream, databases, agencies."""

    var_dir: Path
    settings: PlatformSettings
    nats_url: str
    api_keys: list[dict[str, str]]
    port: int

    def env(self) -> dict[str, str]:
        """The environment ``casereg up`` gives a service; inherited ``CASEREG_*`` settings are left out."""
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("CASEREG_")},
            "CASEREG_VAR_DIR": str(self.var_dir),
            "CASEREG_NATS_URL": self.nats_url,
            "CASEREG_PROVINCE": self.settings.province,
            "CASEREG_STREAM": self.settings.stream,
            "CASEREG_INTAKE_HTTP_HOST": "127.0.0.1",
            "CASEREG_INTAKE_HTTP_PORT": str(self.port),
            SUPERVISOR_PID_ENV: str(os.getpid()),  # the service stops itself if the bench dies
            "PYTHONUNBUFFERED": "1",
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def prepare(ctx: RunContext, server: BenchServer) -> Deployment:
    var_dir = ctx.scratch("intake-http/var")
    path = credentials_path(var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(server.credentials.dump())  # the deployment's credentials file, as `casereg up` writes it
    settings = PlatformSettings(province=PROVINCE, stream="BENCH_INTAKE", var_dir=var_dir)
    admin = await server.connect("admin")
    try:
        await provision(admin, settings)
    finally:
        await admin.close()
    migrate(f"sqlite:///{var_dir / 'keystore.db'}", [KEYSTORE_MIGRATIONS])
    intake_url = f"sqlite:///{var_dir / 'intake.db'}"
    migrate(intake_url, [PLATFORM_MIGRATIONS, INTAKE_MIGRATIONS])
    engine = create_engine(intake_url)
    try:
        keys = [{"code": code, "key": add_agency(engine, code, name, UNIT, "clerk")[1]} for code, name in AGENCIES]
    finally:
        engine.dispose()
    return Deployment(var_dir, settings, server.url, keys, free_port())


class IntakeProcess:
    """The intake service in its own process, started and stopped by the bench."""

    def __init__(self, deployment: Deployment, log_path: Path, profile: str | None, probe: str | None) -> None:
        self.deployment = deployment
        self.log_path = log_path
        self.profile = profile
        self.probe = probe
        self.process: subprocess.Popen[bytes] | None = None
        self.ready_s: float | None = None
        self.started_at = 0.0

    def spawn(self) -> None:
        command = [sys.executable]
        if self.profile:
            command += ["-m", "cProfile", "-o", self.profile]
        if self.probe:
            command += ["-m", "bench.intake_probe", self.probe]
        else:
            command += ["-m", "casereg.platform.service_main", "intake"]
        self.started_at = time.perf_counter()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO,
                env=self.deployment.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    async def wait_serving(self) -> None:
        """Until ``/healthz`` answers (the projections are started before the HTTP server)."""
        assert self.process is not None
        async with httpx.AsyncClient(base_url=self.deployment.url, timeout=2.0) as http:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"intake exited with {self.process.returncode}: {self.log_tail()}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.perf_counter() - self.started_at > READY_TIMEOUT_S:
                    raise TimeoutError(f"intake not serving after {READY_TIMEOUT_S:.0f}s: {self.log_tail()}")
                await asyncio.sleep(0.1)
        self.ready_s = time.perf_counter() - self.started_at

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return pid_cpu_seconds(self.process.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (a clean stop: the profile, if any, is written), SIGKILL after ``timeout``."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)


async def load(ctx: RunContext, deployment: Deployment, size: Size) -> dict[str, Any]:
    """Run :mod:`bench.loadgen` in a process of its own; its report."""
    work = ctx.scratch("intake-http")
    config_path, output_path = work / "loadgen-config.json", work / "loadgen-result.json"
    config = {
        "url": deployment.url,
        "clients": size.clients,
        "warmup_s": size.warmup_s,
        "measure_s": size.measure_s,
        "agencies": deployment.api_keys,
        "body": petition_template(datetime.now(VIETNAM).date().isoformat()),
        "identity_offset": ctx.seed * 1_000_000,
    }
    config_path.write_text(json.dumps(config, ensure_ascii=False))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.loadgen",
        str(config_path),
        str(output_path),
        cwd=REPO,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), size.warmup_s + size.measure_s + 120)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"load generator exited with {process.returncode}: {out.decode(errors='replace')[-2000:]}")
    report: dict[str, Any] = json.loads(output_path.read_text())
    return report


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Throughput in the measured window, latency of the requests started in it, and every non-success."""
    begin = float(report["warmup_s"])
    end = begin + float(report["measure_s"])
    requests: list[list[Any]] = report["requests"]
    done_in_window = [r for r in requests if begin <= r[0] + r[1] < end]
    started_in_window = [r for r in requests if begin <= r[0] < end]
    successes = [r for r in done_in_window if r[2] in SUCCESS]
    latencies = [r[1] * 1000 for r in started_in_window if r[2] in SUCCESS]
    statuses = Counter(str(r[2]) for r in requests)
    errors = {status: n for status, n in statuses.items() if status not in ("201", "202")}
    return {
        "rate": len(successes) / float(report["measure_s"]),
        "latency_ms": latency_summary(latencies) if latencies else None,
        "requests_total": len(requests),
        "successes_total": sum(1 for r in requests if r[2] in SUCCESS),
        "successes_in_window": len(successes),
        "statuses": dict(sorted(statuses.items())),
        "errors": dict(sorted(errors.items())),
        "errors_in_window": sum(1 for r in done_in_window if r[2] not in SUCCESS),
        "error_samples": report["error_samples"],
        "loadgen_wall_s": report["wall_s"],
        "loadgen_cpu_s": report["cpu_s"],
    }


async def stored_petitions(server: BenchServer, settings: PlatformSettings) -> tuple[int, list[int]]:
    """Case messages in the project's stream (one per petition; receipt numbers share counter commits when
    grouped), and the sizes of the first two messages (the first counter commit and the first case)."""
    nc = await server.connect("operator")
    try:
        js = nc.jetstream(timeout=10)
        info = await js.stream_info(settings.stream, subjects_filter=f"reg.{settings.province}.case.*")
        cases = sum((info.state.subjects or {}).values())
        sizes = []
        for seq in (1, 2):
            raw = await js.get_msg(settings.stream, seq=seq)
            sizes.append(len(raw.data or b""))
    finally:
        await nc.close()
    return cases, sizes


async def project_run(ctx: RunContext, server: BenchServer, size: Size) -> dict[str, Any]:
    deployment = await prepare(ctx, server)
    profile, probe = os.environ.get(PROFILE_ENV) or None, os.environ.get(PROBE_ENV) or None
    intake = IntakeProcess(deployment, ctx.scratch("intake-http") / "intake.log", profile, probe)
    try:
        intake.spawn()
        await intake.wait_serving()
        ctx.progress(f"intake serving on {deployment.url} ({intake.ready_s:.1f}s); {size.clients} clients ...")
        cpu0, server0, t0 = intake.cpu_seconds(), server.cpu_seconds(), time.perf_counter()
        report = await load(ctx, deployment, size)
        wall = time.perf_counter() - t0
        intake_cpu, server_cpu = intake.cpu_seconds() - cpu0, server.cpu_seconds() - server0
    finally:
        exit_code = intake.stop()
    summary = summarise(report)
    if not summary["successes_in_window"]:
        raise RuntimeError(
            f"no petition accepted in the measured window: {summary['statuses']}, {summary['error_samples']}"
        )
    messages, sizes = await stored_petitions(server, deployment.settings)
    if summary["successes_total"] and messages < summary["successes_total"]:
        raise AssertionError(f"{summary['successes_total']} petitions answered 201/202, only {messages} cases stored")
    completed = max(summary["requests_total"], 1)
    return {
        **summary,
        "stream_messages": messages,  # case messages: one per petition
        "commit_bytes": sizes,
        "intake_ready_s": round(intake.ready_s or 0.0, 2),
        "intake_exit_code": exit_code,
        "run_wall_s": round(wall, 3),
        "cpu_cores_busy": {
            "intake": round(intake_cpu / wall, 2),
            "nats_server": round(server_cpu / wall, 2),
            "loadgen": round(float(report["cpu_s"]) / wall, 2),
        },
        "cpu_us_per_request": {
            "intake": round(intake_cpu / completed * 1e6, 1),
            "nats_server": round(server_cpu / completed * 1e6, 1),
            "loadgen": round(float(report["cpu_s"]) / completed * 1e6, 1),
        },
        "profile": profile,
        "probe": probe,
    }


# --- raw -------------------------------------------------------------------------------------------------------


async def raw_run(server: BenchServer, size: Size, rep: int, payload: bytes) -> dict[str, Any]:
    settings = PlatformSettings(province=f"r{rep}", stream=f"BENCH_INTAKE_RAW_{rep}")
    latencies: list[float] = []
    async with server.stream(settings):
        nc = await server.connect("intake")
        try:
            js = nc.jetstream(timeout=10.0)
            remaining = [size.raw_publishes]

            async def client() -> None:
                while remaining[0] > 0:
                    remaining[0] -= 1
                    subject = f"reg.{settings.province}.case.{uuid.uuid4()}"
                    start = time.perf_counter()
                    await js.publish(subject, payload, headers={EXPECTED_SEQ: "0"})
                    latencies.append((time.perf_counter() - start) * 1000)

            cpu0, server0, t0 = process_cpu_seconds(), server.cpu_seconds(), time.perf_counter()
            await asyncio.gather(*(client() for _ in range(size.clients)))
            wall = time.perf_counter() - t0
            client_cpu, server_cpu = process_cpu_seconds() - cpu0, server.cpu_seconds() - server0
            info = await js.stream_info(settings.stream)
            if info.state.messages != size.raw_publishes:
                raise AssertionError(f"raw run stored {info.state.messages} of {size.raw_publishes} messages")
        finally:
            await nc.close()
    n = size.raw_publishes
    return {
        "operations": n,
        "wall_s": round(wall, 3),
        "rate": n / wall,
        "latency_ms": latency_summary(latencies),
        "client_cpu_us_per_op": round(client_cpu / n * 1e6, 1),
        "server_cpu_us_per_op": round(server_cpu / n * 1e6, 1),
    }


# --- the scenario ----------------------------------------------------------------------------------------------


async def run(ctx: RunContext) -> Outcome:
    size = SIZES[ctx.profile]
    with ctx.server("intake-http-always", sync_always=True) as server:
        ctx.progress("intake over HTTP: project run (intake service + load generator processes) ...")
        project = await project_run(ctx, server, size)
        ctx.progress(
            f"  {project['successes_in_window']:,} petitions in {size.measure_s:.0f}s → {project['rate']:,.0f}/s, "
            f"{sum(project['errors'].values())} errors"
        )
        payload = os.urandom(sum(project["commit_bytes"]))
        raw: list[dict[str, Any]] = []
        for rep in range(size.raw_repeats):
            ctx.progress(f"intake over HTTP: raw run {rep + 1}/{size.raw_repeats} ({len(payload)} bytes) ...")
            raw.append(await raw_run(server, size, rep, payload))
            ctx.progress(f"  {size.raw_publishes:,} publishes in {raw[-1]['wall_s']:.2f}s → {raw[-1]['rate']:,.0f}/s")
    raw_rate = statistics.median(r["rate"] for r in raw)
    # The raw run whose rate is the median gives the latencies.
    median_raw = sorted(raw, key=lambda r: float(r["rate"]))[len(raw) // 2]
    latency = project["latency_ms"] or {}
    errors = sum(project["errors"].values())
    error_note = (
        f"{errors} of {project['requests_total']} requests failed: {project['errors']}" if errors else "no errors"
    )
    rows = [
        Row(
            label="intake over HTTP, sync always",
            unit="petitions/s",
            project=project["rate"],
            raw=raw_rate,
            goals=(min_ratio(0.5), min_value(100, "petitions/s")),
            note=f"{size.clients} clients; raw = one publish of {len(payload)} bytes per petition; {error_note}",
            details={"project": project, "raw": runs_summary([r["rate"] for r in raw]), "raw_runs": raw},
        )
    ]
    for p in ("p50", "p99"):
        rows.append(
            Row(
                label=f"intake over HTTP {p} latency",
                unit="ms",
                project=latency.get(f"{p}_ms"),
                raw=median_raw["latency_ms"][f"{p}_ms"],
                higher_is_better=False,
                note="" if p == "p50" else "HTTP request (201 waits for the registry to show the case) vs one publish",
            )
        )
    details = {
        "size": asdict(size),
        "agencies": len(AGENCIES),
        "raw_payload_bytes": len(payload),
        "percentile": "nearest rank",
    }
    return Outcome(rows=rows, details=details)


SCENARIO = Scenario(
    number=3,
    key="intake_http",
    title="intake over HTTP",
    goal="≥ 0.5× and ≥ 100/s",
    run=run,
)
