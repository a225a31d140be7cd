"""Scenario 4 — pipeline latency at a steady 100 petitions/s for 60 s: submitted → proposal by routing, → first
deadline set, → acknowledged by the national simulator; p50/p95/p99. Goals: proposal p99 < 100 ms, national ack
p99 < 1 s.

Project: the whole system as a user runs it — ``casereg up`` in a scratch var dir with free ports (embedded
nats-server with the project's configuration, ``sync_interval: always``; intake, routing, escalation,
national-sync and, in development, the national simulator ``national-sim``), default settings otherwise. Once
``casereg status --json`` says healthy, clerk agencies are added to intake's database with ``add_agency`` (what
``casereg agency add`` does, without a process each). Then the bench process sends petitions to
``POST /v1/petitions`` at a fixed rate, open loop: request ``i`` is sent at ``t0 + i / rate`` whatever happened
to the earlier ones (each request its own task), so a slow system gets the load agencies would give it, not less.
Every request keeps its send time (wall clock), its answer time, its status and the case id. The full profile
first runs a reference pass at 10/s on the same system (a rate this machine sustains), then the measured pass.

After a pass the bench waits (up to the drain limit) until every accepted case has its proposal, its first
deadline and version 1 of its national record, then reads the case messages of the stream once and takes each
commit's server timestamp (JetStream metadata): the commit with ``PetitionReceived`` (intake's append), the first
with ``OutcomeProposed`` (routing), the first with ``DeadlineSet`` (escalation); and the simulator's
``received_at`` of version 1 of the ``case`` record. Latencies are measured **from the moment the client sent the
request** (the rows) and from intake's append (details). Cases that never reach a stage within the limit are
counted in the details and the notes, not dropped. The system is stopped with SIGINT at the end, always; a
process it started that is still alive after that is killed, and the scenario fails saying so.

Raw: one pipeline hop with nats-py on a fresh server with the same configuration: ``js.publish`` with
``Nats-Expected-Last-Subject-Sequence`` to a new case subject at the same rate and schedule, received by a pull
consumer that publishes a reaction to the same subject (concurrency header set to the message's sequence) and
acks; latency from the first publish's start to the reaction's publish ack (both stored). Message sizes are those
of the project's petition and proposal commits. Ratio = raw / project on the proposal rows.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import nats.errors
from casereg.cli.connection import connected
from casereg.db import create_engine
from casereg.log.commit import StoredCommit
from casereg.log.raw import replay
from casereg.platform.credentials import OPERATOR_USER
from casereg.platform.nats_embedded import free_port
from casereg.platform.status_file import pid_alive, read_status, status_path
from casereg.settings import PlatformSettings
from intake.adapters.agencies import add_agency
from intake.settings import IntakeSettings
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from bench.loadgen import submitter
from bench.model import Outcome, Row, RunContext, Scenario, max_value
from bench.scenarios.s3_intake_http import (
    EXPECTED_SEQ,
    PROVINCE,
    SUCCESS,
    UNIT,
    VIETNAM,
    petition_template,
    pid_cpu_seconds,
)
from bench.servers import BenchServer
from bench.stats import latency_summary, percentile

CASEREG = str(Path(sys.executable).parent / "casereg")
STREAM = "REG"  # casereg up's default stream
READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 600.0
#: Requests on the wire at once. More would only queue inside httpx's connection pool, whose bookkeeping grows
#: with the queue (a first full run spent its time there: 100 % of a core in the bench, services idle).
IN_FLIGHT = 128
STAGES = ("proposal", "deadline", "national")
STAGE_EVENTS = {"proposal": "OutcomeProposed", "deadline": "DeadlineSet"}


@dataclass(frozen=True)
class Pass:
    rate: float  # petitions per second
    seconds: float  # how long the load lasts

    @property
    def petitions(self) -> int:
        return max(1, round(self.rate * self.seconds))

    @property
    def name(self) -> str:
        return f"{self.rate:g}/s"


@dataclass(frozen=True)
class Size:
    load: Pass  # the measured pass (the 100/s)
    agencies: int
    drain_s: float  # how long to wait after a pass for every case to reach every stage
    #: A first pass at a rate the machine sustains, on the same system, for reference (full profile only).
    reference: Pass | None = None


SIZES = {
    "full": Size(load=Pass(100.0, 60.0), agencies=8, drain_s=300.0, reference=Pass(10.0, 30.0)),
    "quick": Size(load=Pass(100.0, 2.0), agencies=8, drain_s=60.0),
    "smoke": Size(load=Pass(10.0, 0.5), agencies=2, drain_s=60.0),
}


def quantiles(ms: list[float]) -> dict[str, float]:
    """``latency_summary`` plus p95 (the goal rows report p50/p95/p99)."""
    return {**latency_summary(ms), "p95_ms": round(percentile(ms, 95), 4)}


def epoch(stamp: datetime | str) -> float:
    return (stamp if isinstance(stamp, datetime) else datetime.fromisoformat(stamp)).timestamp()


async def open_loop(rate: float, count: int, send: Callable[[int], Coroutine[Any, Any, None]]) -> float:
    """Start ``send(i)`` at ``t0 + i / rate`` (one task each, never waiting for earlier ones); the wall time of
    the schedule once every call has finished."""
    t0 = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    for i in range(count):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(i)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - t0


# --- the whole system ------------------------------------------------------------------------------------------


class RunningSystem:
    """``casereg up`` in a scratch var dir with free ports, as ``tests/platform/test_e2e.py`` starts it."""

    def __init__(self, base: Path) -> None:
        self.var_dir = base / "var"
        self.log_path = base / "up.log"
        self.nats_port, self.monitor_port = free_port(), free_port()
        self.intake_port, self.simulator_port = free_port(), free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEREG_", "OTEL_"))}
        self.env |= {
            "CASEREG_VAR_DIR": str(self.var_dir),
            "CASEREG_EMBEDDED_NATS_PORT": str(self.nats_port),
            "CASEREG_EMBEDDED_NATS_MONITOR_PORT": str(self.monitor_port),
            "CASEREG_INTAKE_HTTP_PORT": str(self.intake_port),
            "CASEREG_SIMULATOR_PORT": str(self.simulator_port),
            "CASEREG_NATS_URL": self.nats_url,  # for the CLI commands the bench runs
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.pids: set[int] = set()
        self.ready_s: float | None = None

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    @property
    def intake_url(self) -> str:
        return f"http://127.0.0.1:{self.intake_port}"

    @property
    def simulator_url(self) -> str:
        return f"http://127.0.0.1:{self.simulator_port}"

    def settings(self) -> PlatformSettings:
        return PlatformSettings(province=PROVINCE, stream=STREAM, var_dir=self.var_dir, nats_url=self.nats_url)

    async def cli(self, *args: str, limit_s: float = 120.0) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            CASEREG,
            *args,
            env=self.env,
            cwd=self.var_dir.parent,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), limit_s)
        except BaseException:
            process.kill()
            await process.wait()
            raise
        assert process.returncode is not None
        return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def up(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [CASEREG, "up", "--stop-timeout", "10"],
                env=self.env,
                cwd=self.var_dir.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.pids.add(self.process.pid)

    async def wait_healthy(self) -> dict[str, Any]:
        """Until ``casereg status --json`` says healthy; the status view. Intake's and the simulator's HTTP health
        are polled first: they answer last and cost nothing, while each ``casereg status`` is a Python process."""
        t0 = time.perf_counter()
        async with httpx.AsyncClient(timeout=2.0) as http:
            for url in (f"{self.intake_url}/healthz", f"{self.simulator_url}/v1/simulator/health"):
                while True:
                    self.check_running(t0)
                    try:
                        if (await http.get(url)).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.2)
        while True:
            self.check_running(t0)
            code, out, _ = await self.cli("status", "--json", "--timeout", "1", limit_s=60)
            try:
                view: dict[str, Any] = json.loads(out)
            except json.JSONDecodeError:
                view = {}
            self.remember(view)
            if code == 0 and view.get("healthy"):
                self.ready_s = time.perf_counter() - t0
                return view
            await asyncio.sleep(0.5)

    def check_running(self, t0: float) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"casereg up exited with {self.process.returncode}: {self.log_tail()}")
        if time.perf_counter() - t0 > READY_TIMEOUT_S:
            raise TimeoutError(f"system not healthy after {READY_TIMEOUT_S:.0f}s: {self.log_tail()}")

    def remember(self, view: dict[str, Any]) -> None:
        for process in (view.get("supervisor"), view.get("nats"), *view.get("services", {}).values()):
            if process and process.get("pid"):
                self.pids.add(int(process["pid"]))

    def add_agencies(self, count: int) -> list[str]:
        """``count`` clerk agencies in intake's database (what ``casereg agency add`` does, without a CLI process
        each); their API keys."""
        url = IntakeSettings(province=PROVINCE, stream=STREAM, var_dir=self.var_dir).resolved_database_url()
        engine = create_engine(url)
        try:
            return [
                add_agency(engine, f"2tier/{PROVINCE}/bench-s4-{n}", f"UBND bench {n}", UNIT, "clerk")[1]
                for n in range(count)
            ]
        finally:
            engine.dispose()

    def varz(self) -> dict[str, Any]:
        answer = httpx.get(f"http://127.0.0.1:{self.monitor_port}/varz", timeout=5)
        data: dict[str, Any] = answer.json()
        return data

    def stop(self) -> dict[str, Any]:
        """SIGINT to ``casereg up`` (a clean stop), SIGKILL after the limit; then no process it started may live.
        What happened, for the details."""
        outcome: dict[str, Any] = {"exit_code": None, "killed": []}
        try:
            status = read_status(status_path(self.var_dir))
            self.pids |= {p for p in (status.supervisor_pid, status.nats and status.nats.pid) if p}
            self.pids |= {s.pid for s in status.services.values() if s.pid}
        except (FileNotFoundError, ValueError):
            pass
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
                try:
                    self.process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(10)
            outcome["exit_code"] = self.process.returncode
        for pid in sorted(self.pids):
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
                outcome["killed"].append(pid)
        return outcome

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


# --- the load --------------------------------------------------------------------------------------------------


@dataclass
class Sent:
    index: int
    sent_at: float  # wall clock (epoch seconds), comparable with the server's timestamps
    latency_s: float = 0.0  # from the scheduled send to the answer (waiting for a slot included)
    queued_s: float = 0.0  # of which waiting for one of the IN_FLIGHT slots
    status: int | str = ""
    case_id: str | None = None


@dataclass
class Load:
    requests: list[Sent]
    wall_s: float
    error_samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> list[Sent]:
        return [r for r in self.requests if r.status in SUCCESS and r.case_id]


async def send_petitions(system: RunningSystem, keys: list[str], load: Pass, offset: int) -> Load:
    template = petition_template(datetime.now(VIETNAM).date().isoformat())
    requests: list[Sent] = []
    errors: list[dict[str, Any]] = []
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    slots = asyncio.Semaphore(IN_FLIGHT)
    # A request waiting for a slot still counts from its scheduled send (no coordinated omission); the long limit
    # lets an overloaded system answer late rather than have the bench give up on it.
    async with httpx.AsyncClient(base_url=system.intake_url, limits=limits, timeout=REQUEST_TIMEOUT_S) as http:

        async def send(i: int) -> None:
            body = json.dumps({**template, "submitters": [submitter(offset + i)]}, ensure_ascii=False).encode()
            headers = {
                "Authorization": f"Bearer {keys[i % len(keys)]}",
                "X-Officer-Id": f"bench-officer-{i % 16}",
                "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4()),
            }
            record = Sent(i, time.time())
            requests.append(record)
            start = time.perf_counter()
            async with slots:
                record.queued_s = time.perf_counter() - start
                try:
                    response = await http.post("/v1/petitions", content=body, headers=headers)
                    record.status = response.status_code
                    if response.status_code in SUCCESS:
                        record.case_id = response.json().get("case_id")
                    elif len(errors) < 5:
                        errors.append({"status": response.status_code, "body": response.text[:500]})
                except httpx.HTTPError as exc:
                    record.status = type(exc).__name__
                    if len(errors) < 5:
                        errors.append({"status": record.status, "body": str(exc)[:500]})
            record.latency_s = time.perf_counter() - start

        wall = await open_loop(load.rate, load.petitions, send)
    return Load(sorted(requests, key=lambda r: r.index), wall, errors)


# --- what reached each stage, and when -------------------------------------------------------------------------


@dataclass
class CaseTimes:
    appended: float | None = None  # server timestamp of the commit with PetitionReceived
    proposal: float | None = None
    deadline: float | None = None
    national: float | None = None  # the simulator's received_at of version 1 of the case record
    sizes: dict[str, int] = field(default_factory=dict)  # bytes of the petition's and the proposal's commits


async def national_case_ids(http: httpx.AsyncClient) -> set[str]:
    """Every case record the simulator holds for the province (reconciliation listing, paged)."""
    found: set[str] = set()
    after: str | None = None
    while True:
        params: dict[str, str | int] = {"kind": "case", "limit": 1000}
        if after:
            params["after"] = after
        answer = await http.get(f"/v1/provinces/{PROVINCE}/records", params=params)
        answer.raise_for_status()
        page = answer.json()
        found |= {item["record_id"] for item in page["items"]}
        after = page.get("next")
        if not after:
            return found


async def read_log(system: RunningSystem, wanted: set[str]) -> dict[str, CaseTimes]:
    """One pass over the case messages of the stream: the server timestamp of each stage's first commit."""
    times = {case_id: CaseTimes() for case_id in wanted}
    prefix = f"reg.{PROVINCE}.case."
    async with connected(system.settings(), OPERATOR_USER) as nc:
        js = nc.jetstream(timeout=30)
        async for msg in replay(js, STREAM, subjects=[f"{prefix}*"], batch=2000):
            case = times.get(msg.subject.removeprefix(prefix))
            if case is None or msg.time is None:
                continue
            commit = StoredCommit.decode(msg.stream_seq, msg.subject, None, msg.data)
            types = {e.type for e in commit.events}
            at = epoch(msg.time)
            if "PetitionReceived" in types and case.appended is None:
                case.appended = at
                case.sizes.setdefault("petition_commit", len(msg.data))
            if "OutcomeProposed" in types and case.proposal is None:
                case.proposal = at
                case.sizes.setdefault("proposal_commit", len(msg.data))
            if "DeadlineSet" in types and case.deadline is None:
                case.deadline = at
    return times


async def national_times(system: RunningSystem, times: dict[str, CaseTimes]) -> None:
    """The simulator's ``received_at`` of version 1 of each case record it holds."""
    async with httpx.AsyncClient(base_url=system.simulator_url, timeout=30.0) as http:
        held = await national_case_ids(http) & times.keys()
        semaphore = asyncio.Semaphore(16)

        async def one(case_id: str) -> None:
            async with semaphore:
                answer = await http.get(f"/v1/provinces/{PROVINCE}/records/case/{case_id}")
            answer.raise_for_status()
            first = next((v for v in answer.json()["versions"] if v["version"] == 1), None)
            if first is not None:
                times[case_id].national = epoch(first["received_at"])

        await asyncio.gather(*(one(c) for c in held))


def complete(times: dict[str, CaseTimes]) -> bool:
    return all(t.proposal is not None and t.deadline is not None for t in times.values())


async def drain(system: RunningSystem, wanted: set[str], limit_s: float) -> tuple[float, bool]:
    """Poll until every wanted case is held nationally and has its proposal and deadline in the log, or the limit
    passes; the seconds waited and whether everything arrived."""
    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=system.simulator_url, timeout=30.0) as http:
        while True:
            if wanted <= await national_case_ids(http) and complete(await read_log(system, wanted)):
                return time.perf_counter() - t0, True
            if time.perf_counter() - t0 > limit_s:
                return time.perf_counter() - t0, False
            await asyncio.sleep(1.0)


# --- the project run -------------------------------------------------------------------------------------------


@dataclass
class PassResult:
    load: Pass
    sent: Load
    times: dict[str, CaseTimes]
    drain_s: float
    drained: bool
    #: CPU cores each process kept busy from the first send until every stage arrived (or the drain limit).
    cpu_cores_busy: dict[str, float] = field(default_factory=dict)

    def latencies(self) -> dict[str, dict[str, list[float]]]:
        """Per stage (and intake's append), ms from the client's send and from intake's append."""
        out: dict[str, dict[str, list[float]]] = {s: {"from_sent": [], "from_append": []} for s in ("append", *STAGES)}
        for request in self.sent.accepted:
            assert request.case_id is not None
            case = self.times[request.case_id]
            for stage in ("append", *STAGES):
                at: float | None = case.appended if stage == "append" else getattr(case, stage)
                if at is None:
                    continue
                out[stage]["from_sent"].append((at - request.sent_at) * 1000)
                if case.appended is not None and stage != "append":
                    out[stage]["from_append"].append((at - case.appended) * 1000)
        return out

    def summary(self, drain_limit_s: float) -> dict[str, Any]:
        sent, accepted = self.sent.requests, self.sent.accepted
        latencies = self.latencies()
        reached = {stage: len(latencies[stage]["from_sent"]) for stage in latencies}
        statuses = Counter(str(r.status) for r in sent)
        starts = sorted(r.sent_at for r in sent)
        offered_s = starts[-1] - starts[0] if len(starts) > 1 else 0.0
        return {
            "rate": self.load.rate,
            "seconds": self.load.seconds,
            "requests": len(sent),
            # How fast requests were actually started (the schedule's rate unless the bench itself fell behind).
            "offered_rate_per_s": round((len(sent) - 1) / offered_s, 1) if offered_s > 0 else None,
            # Accepted petitions over the time from the first send to the last answer.
            "answered_rate_per_s": round(len(accepted) / self.sent.wall_s, 1) if self.sent.wall_s else None,
            "send_wall_s": round(self.sent.wall_s, 3),
            "accepted": len(accepted),
            "statuses": dict(sorted(statuses.items())),
            "errors": {k: n for k, n in statuses.items() if k not in {str(c) for c in SUCCESS}},
            "error_samples": self.sent.error_samples,
            "http_latency_ms": quantiles([r.latency_s * 1000 for r in accepted]) if accepted else None,
            "client_queue_ms": quantiles([r.queued_s * 1000 for r in accepted]) if accepted else None,
            "reached": reached,
            "never_reached": {s: len(accepted) - reached[s] for s in STAGES if reached[s] < len(accepted)},
            "drain_limit_s": drain_limit_s,
            "drained": self.drained,
            "cpu_cores_busy": self.cpu_cores_busy,
            "drain_wait_s": round(self.drain_s, 1),
            "stages_ms": {
                stage: {
                    origin: quantiles(v) if v else None for origin, v in by_origin.items() if v or origin == "from_sent"
                }
                for stage, by_origin in latencies.items()
            },
        }


def cpu_by_process(processes: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process (0 for one that is gone)."""
    out = {}
    for name, pid in processes.items():
        try:
            out[name] = pid_cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            out[name] = 0.0
    return out


async def measure_pass(
    ctx: RunContext,
    system: RunningSystem,
    keys: list[str],
    load: Pass,
    drain_s: float,
    offset: int,
    processes: dict[str, int],
) -> PassResult:
    ctx.progress(f"pipeline: {load.petitions:,} petitions at {load.rate:g}/s from {len(keys)} agencies ...")
    cpu0, t0 = cpu_by_process({**processes, "bench": os.getpid()}), time.perf_counter()
    sent = await send_petitions(system, keys, load, offset)
    wanted = {r.case_id for r in sent.accepted if r.case_id}
    ctx.progress(
        f"  sent and answered in {sent.wall_s:.1f}s, {len(wanted)} accepted; waiting up to {drain_s:.0f}s for "
        "every stage ..."
    )
    waited, drained = await drain(system, wanted, drain_s)
    wall = time.perf_counter() - t0
    cpu = cpu_by_process({**processes, "bench": os.getpid()})
    busy = {name: round((cpu[name] - cpu0[name]) / wall, 2) for name in cpu}
    times = await read_log(system, wanted)
    await national_times(system, times)
    return PassResult(load, sent, times, waited, drained, busy)


async def project_run(ctx: RunContext, size: Size) -> tuple[list[PassResult], dict[str, Any]]:
    """The passes (the reference one first, if any, then the measured one) on one running system."""
    system = RunningSystem(ctx.scratch("pipeline-latency"))
    passes: list[PassResult] = []
    try:
        system.up()
        view = await system.wait_healthy()
        varz = system.varz()
        js_config = varz.get("jetstream", {}).get("config", {})
        ctx.servers_seen.append(
            {
                "version": varz.get("version"),
                "go": varz.get("go"),
                "sync_always": js_config.get("sync_always", False),
                "store_dir": js_config.get("store_dir"),
            }
        )
        keys = system.add_agencies(size.agencies)
        ctx.progress(f"pipeline: healthy in {system.ready_s:.1f}s ({', '.join(sorted(view['services']))})")
        processes = {name: int(s["pid"]) for name, s in view["services"].items() if s.get("pid")}
        if view.get("nats", {}).get("pid"):
            processes["nats-server"] = int(view["nats"]["pid"])
        offset = ctx.seed * 1_000_000 + 500_000  # identities apart from scenario 3's
        for number, load in enumerate(p for p in (size.reference, size.load) if p is not None):
            identities = offset + number * 100_000
            passes.append(await measure_pass(ctx, system, keys, load, size.drain_s, identities, processes))
    finally:
        stopped = system.stop()
    if stopped["killed"]:
        raise RuntimeError(f"processes outlived casereg up's stop and were killed: {stopped['killed']}")
    return passes, {"system_ready_s": round(system.ready_s or 0.0, 1), "stop": stopped}


# --- raw: one pipeline hop -------------------------------------------------------------------------------------


async def raw_run(server: BenchServer, load: Pass, petition_bytes: int, reaction_bytes: int) -> dict[str, Any]:
    """Publish at the project's rate; a consumer reacts on the same subject; first publish → reaction stored."""
    settings = PlatformSettings(province="r4", stream="BENCH_PIPELINE_RAW")
    petition, reaction = os.urandom(petition_bytes), os.urandom(reaction_bytes)
    started: dict[str, float] = {}
    latencies: list[float] = []
    count = load.petitions
    async with server.stream(settings):
        nc = await server.connect("admin")
        reacting: asyncio.Task[None] | None = None
        try:
            js = nc.jetstream(timeout=30.0)
            consumer = ConsumerConfig(
                durable_name="reactor",
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                filter_subject=f"reg.{settings.province}.case.*",
                max_ack_pending=10_000,
            )
            await js.add_consumer(settings.stream, consumer)
            sub = await js.pull_subscribe_bind("reactor", settings.stream)

            async def react(msg: Any) -> None:
                if msg.headers and msg.headers.get("kind") == "reaction":
                    await msg.ack()
                    return
                seq = msg.metadata.sequence.stream
                await js.publish(msg.subject, reaction, headers={EXPECTED_SEQ: str(seq), "kind": "reaction"})
                latencies.append((time.perf_counter() - started[msg.subject]) * 1000)
                await msg.ack()

            async def reactor() -> None:
                while len(latencies) < count:
                    try:
                        msgs = await sub.fetch(256, timeout=1.0)
                    except (nats.errors.TimeoutError, TimeoutError):
                        continue
                    await asyncio.gather(*(react(m) for m in msgs))

            async def send(i: int) -> None:
                subject = f"reg.{settings.province}.case.{uuid.uuid4()}"
                started[subject] = time.perf_counter()
                await js.publish(subject, petition, headers={EXPECTED_SEQ: "0", "kind": "petition"})

            reacting = asyncio.create_task(reactor())
            wall = await open_loop(load.rate, count, send)
            await asyncio.wait_for(reacting, 60.0)
        finally:
            if reacting is not None:
                reacting.cancel()
            await nc.close()
    return {"operations": count, "wall_s": round(wall, 3), "latency_ms": quantiles(latencies)}


# --- the scenario ----------------------------------------------------------------------------------------------


def commit_sizes(result: PassResult) -> tuple[int, int]:
    """Bytes of a petition's commit and of its proposal's commit, as the project stored them."""
    sizes = next((t.sizes for t in result.times.values() if len(t.sizes) == 2), None)
    if sizes is None:
        raise RuntimeError("no case reached its proposal: nothing to size the raw messages on")
    return sizes["petition_commit"], sizes["proposal_commit"]


FROM_SENT = "from the client's send"


async def run(ctx: RunContext) -> Outcome:
    size = SIZES[ctx.profile]
    ctx.progress("pipeline: casereg up (the whole system) ...")
    passes, system_details = await project_run(ctx, size)
    measured = passes[-1]
    if not measured.sent.accepted:
        statuses = Counter(str(r.status) for r in measured.sent.requests)
        raise RuntimeError(f"no petition accepted: {dict(statuses)}, {measured.sent.error_samples}")
    petition_bytes, proposal_bytes = commit_sizes(measured)
    with ctx.server("pipeline-raw", sync_always=True) as server:
        ctx.progress(f"pipeline: raw hop at {size.load.rate:g}/s ({petition_bytes} + {proposal_bytes} bytes) ...")
        raw = await raw_run(server, size.load, petition_bytes, proposal_bytes)
    raw_ms = raw["latency_ms"]

    summaries = [p.summary(size.drain_s) for p in passes]
    main = summaries[-1]
    stages = main["stages_ms"]

    def figure(summary: dict[str, Any], stage: str, p: str) -> float | None:
        values = summary["stages_ms"][stage]["from_sent"]
        return None if values is None else float(values[f"{p}_ms"])

    never = main["never_reached"]
    missing_note = f"; never reached within {size.drain_s:.0f}s: {never}" if never else ""
    errors = sum(main["errors"].values())
    load_note = (
        f"{FROM_SENT}; {main['accepted']} petitions at {size.load.rate:g}/s"
        + (f", {errors} failed: {main['errors']}" if errors else "")
        + "; raw = publish → reaction stored"
        + missing_note
    )
    rows = [
        Row(
            label=f"pipeline: sent → proposal {p}",
            unit="ms",
            project=figure(main, "proposal", p),
            raw=raw_ms[f"{p}_ms"],
            higher_is_better=False,
            goals=(max_value(100, "ms"),) if p == "p99" else (),
            note=load_note if p == "p99" else "",
            details={"project": stages["proposal"], "raw": raw_ms} if p == "p99" else {},
        )
        for p in ("p50", "p95", "p99")
    ]
    rows.append(
        Row(
            label="pipeline: sent → first deadline p99",
            unit="ms",
            project=figure(main, "deadline", "p99"),
            higher_is_better=False,
            note=FROM_SENT,
            details={"project": stages["deadline"]},
        )
    )
    rows.append(
        Row(
            label="pipeline: sent → national ack p99",
            unit="ms",
            project=figure(main, "national", "p99"),
            higher_is_better=False,
            goals=(max_value(1000, "ms"),),
            note=f"{FROM_SENT}; the simulator's received_at of version 1",
            details={"project": stages["national"]},
        )
    )
    for summary in summaries[:-1]:
        rate = f"{summary['rate']:g}/s"
        for stage, label in (("proposal", "proposal"), ("national", "national ack")):
            rows.append(
                Row(
                    label=f"pipeline at {rate} (reference): sent → {label} p99",
                    unit="ms",
                    project=figure(summary, stage, "p99"),
                    higher_is_better=False,
                    note=f"{FROM_SENT}; a rate this system sustains, same system, before the measured pass",
                    details={"project": summary["stages_ms"][stage]},
                )
            )
    details = {
        "size": asdict(size),
        "clock": "latencies from the client's send (wall clock) to the server timestamp of the stage's first "
        "commit, or to the simulator's received_at; from_append: from the server timestamp of intake's commit",
        "passes": summaries,
        **system_details,
        "raw": raw,
        "percentile": "nearest rank",
    }
    return Outcome(rows=rows, details=details)


SCENARIO = Scenario(
    number=4,
    key="pipeline_latency",
    title="pipeline latency",
    goal="proposal p99 < 100 ms, ack p99 < 1 s",
    run=run,
)
