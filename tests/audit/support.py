"""Writing small aggregates, exporting, and running the offline verifier as an auditor would."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import casereg_verify
from casereg.log.canonical import event_hash
from casereg.log.envelope import Actor, AggregateRef, new_event_id
from casereg.log.events import NewEvent
from casereg.log.export import read_export, write_export
from casereg.log.raw import RawMessage, replay
from casereg.log.store import Head

from tests.log.conftest import LogEnv

VERIFIER = Path(casereg_verify.__file__).parent


def note(env: LogEnv, n: int, text: str = "ghi chú") -> NewEvent:
    return NewEvent(
        new_event_id(), "NoteAdded", 1, {"n": n, "text": text}, env.clock.now(), Actor(agency="gl-btcd", officer="cb-1")
    )


async def write(env: LogEnv, case_id: str, commits: int, text: str = "ghi chú") -> list[int]:
    """``commits`` more messages of one event on the case; their stream sequences."""
    ref = AggregateRef.case(case_id)
    last = await env.log.last(ref)
    head = Head.after(last) if last is not None else Head.genesis(case_id)
    seqs = []
    for i in range(commits):
        env.clock.advance(timedelta(minutes=1))
        result = await env.log.append(ref, [note(env, head.event_seq + 1, f"{text} {i}")], head)
        head = result.head
        seqs.append(result.stream_seq)
    return seqs


async def exported(env: LogEnv) -> list[RawMessage]:
    buf = io.StringIO()
    write_export([m async for m in replay(env.nc.jetstream(), env.settings.stream)], buf)
    return list(read_export(io.StringIO(buf.getvalue())))


def save(messages: list[RawMessage], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as f:
        write_export(messages, f)
    return path


def edited(msg: RawMessage, index: int, **change: Any) -> RawMessage:
    body = json.loads(msg.data)
    body["events"][index].update(change)
    return RawMessage(msg.stream_seq, msg.subject, json.dumps(body, ensure_ascii=False).encode(), msg.time)


def rehashed(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "hash": event_hash(event)}


def run_offline(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m casereg_verify.verify ARGS`` by the base interpreter, isolated (-I) and without site-packages
    (-S), with only the verifier package copied to a temporary directory on its path."""
    target = tmp_path / "offline"
    if not target.exists():
        shutil.copytree(VERIFIER, target / "casereg_verify", ignore=shutil.ignore_patterns("__pycache__"))
    boot = (
        f"import sys, runpy; sys.path.insert(0, {str(target)!r}); "
        "runpy.run_module('casereg_verify.verify', run_name='__main__', alter_sys=True)"
    )
    base = getattr(sys, "_base_executable", sys.executable)
    return subprocess.run(
        [base, "-I", "-S", "-c", boot, *args], capture_output=True, text=True, timeout=120, check=False
    )
