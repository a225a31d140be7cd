"""``python -m bench run [--quick]``: every scenario, one table, ``bench/results/latest.json``.

A missed goal is a finding, not an error: the exit status is 0 unless a scenario crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bench.databases import pg_version
from bench.model import PROFILES, Profile, Reporter, RunContext, Scenario, ScenarioResult, Status
from bench.report import machine, print_report, results_json, versions, write_json
from bench.scenarios import discover
from bench.servers import binary_version

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "latest.json"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the scenarios and their raw baselines")
    run.add_argument("--quick", action="store_true", help="small sizes: finishes in under 2 minutes")
    run.add_argument("--profile", choices=PROFILES, help="size profile (default full; --quick = quick)")
    run.add_argument("--only", help="comma-separated scenario numbers or keys, e.g. 1,case_load")
    run.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results file (default %(default)s)")
    run.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_DATABASE_URL", os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)),
        help="PostgreSQL for the rebuild rows; each run uses its own schema, dropped after (default %(default)s)",
    )
    run.add_argument("--work-dir", type=Path, help="scratch directory (default: a temporary one, removed after)")
    run.add_argument("--seed", type=int, default=12)
    return p


def select(scenarios: Sequence[Scenario], only: str | None) -> list[Scenario]:
    if not only:
        return list(scenarios)
    wanted = {w.strip() for w in only.split(",") if w.strip()}
    chosen = [s for s in scenarios if str(s.number) in wanted or s.key in wanted]
    known = {str(s.number) for s in scenarios} | {s.key for s in scenarios}
    unknown = wanted - known
    if unknown:
        raise SystemExit(f"unknown scenario {sorted(unknown)[0]!r}; known: {', '.join(sorted(known))}")
    return chosen


def run_scenario(scenario: Scenario, ctx: RunContext, console: Console) -> ScenarioResult:
    if scenario.run is None:
        return ScenarioResult(scenario, Status.NOT_YET)
    console.rule(f"[bold]{scenario.number} {scenario.title}[/] — goal {scenario.goal}")
    t0 = time.perf_counter()
    try:
        outcome = asyncio.run(scenario.run(ctx))
    except Exception as exc:
        console.print(traceback.format_exc(), style="red", markup=False, highlight=False)
        return ScenarioResult(
            scenario, Status.FAILED, elapsed_s=time.perf_counter() - t0, error=f"{type(exc).__name__}: {exc}"
        )
    elapsed = time.perf_counter() - t0
    console.print(f"{scenario.number} {scenario.title}: done in {elapsed:.1f}s", style="dim")
    return ScenarioResult(scenario, Status.RAN, outcome.rows, outcome.details, elapsed)


def run(args: argparse.Namespace, console: Console) -> int:
    profile: Profile = args.profile or ("quick" if args.quick else "full")
    scenarios = select(discover(), args.only)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="casereg-bench-"))
    work_dir.mkdir(parents=True, exist_ok=True)

    def emit(message: str) -> None:
        console.print(f"[dim]{time.perf_counter() - t0:7.1f}s[/] {message}", highlight=False)

    ctx = RunContext(profile=profile, work_dir=work_dir, pg_url=args.pg_url, progress=Reporter(emit), seed=args.seed)
    console.print(f"casereg benchmarks, profile [bold]{profile}[/], scratch {work_dir}")
    try:
        results = [run_scenario(s, ctx, console) for s in scenarios]
    finally:
        if args.work_dir is None:
            shutil.rmtree(work_dir, ignore_errors=True)
    payload = results_json(
        profile=profile,
        started_at=started.isoformat(),
        finished_at=datetime.now(UTC).isoformat(),
        elapsed_s=time.perf_counter() - t0,
        argv=sys.argv,
        machine_info=machine(),
        version_info=versions(ctx.servers_seen, binary_version(), pg_version(args.pg_url)),
        servers_seen=ctx.servers_seen,
        results=results,
    )
    write_json(args.output, payload)
    print_report(console, results, f"casereg benchmarks ({profile}, {payload['elapsed_s']:.0f}s)", args.output)
    return 1 if any(r.status is Status.FAILED for r in results) else 0


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    args = parser().parse_args(argv)
    # Wide enough for the table even when piped (make); a terminal wider than that is used as it is.
    console = console or Console(width=max(shutil.get_terminal_size((140, 24)).columns, 132))
    if args.command == "run":
        return run(args, console)
    raise AssertionError(args.command)
