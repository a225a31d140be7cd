"""The offline verifier (casereg_verify, standard library only) agrees with `verify_messages`; JCS equivalence."""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import rfc8785
from casereg.log.canonical import MAX_SAFE_INT, canonical_bytes, event_hash
from casereg.log.envelope import Actor, AggregateRef, new_event_id
from casereg.log.events import NewEvent
from casereg.log.export import read_export, write_export
from casereg.log.raw import RawMessage, replay
from casereg.log.store import Head
from casereg.log.verify import verify_messages
from hypothesis import given
from hypothesis import strategies as st

from tests.audit.support import VERIFIER, run_offline
from tests.log.conftest import LogEnv

DOC = Path(__file__).resolve().parents[2] / "docs" / "log-format.md"
# Text that exercises the canonical-JSON rules: Vietnamese, quotes, escapes, control characters, U+2028, astral.
AWKWARD = 'Đơn "khiếu nại" \\ của bà Lê Thị Ả\ttab\nnew line \x01 \x7f \u2028 😀 ﬁ'


def test_the_offline_verifier_uses_the_standard_library_only_and_the_doc_points_to_it() -> None:
    imported: set[str] = set()
    for source in VERIFIER.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert imported and imported <= sys.stdlib_module_names | {"__future__"}
    doc = DOC.read_text(encoding="utf-8")
    assert "-m casereg_verify.verify" in doc
    assert "import hashlib" not in doc  # one implementation: the package, not a copy in the doc


def run_offline_on(tmp_path: Path, messages: list[RawMessage]) -> subprocess.CompletedProcess[str]:
    export = tmp_path / "export.jsonl"
    with export.open("w", encoding="utf-8") as f:
        write_export(messages, f)
    return run_offline(tmp_path, str(export))


def script_breaks(stdout: str) -> list[tuple[str, int, int, str]]:
    out = []
    for line in stdout.splitlines():
        if line.startswith("BREAK "):
            head = line.split(":", 1)[0]
            _, subject, stream_seq, index, reason = head.split()
            out.append((subject, int(stream_seq), int(index), reason))
    return out


def assert_agree(tmp_path: Path, messages: list[RawMessage]) -> list[tuple[str, int, int, str]]:
    report = verify_messages(messages)
    done = run_offline_on(tmp_path, messages)
    assert done.stderr == ""
    found = script_breaks(done.stdout)
    assert found == [(b.subject, b.stream_seq, b.event_index, b.reason.value) for b in report.breaks]
    if report.ok:
        assert done.returncode == 0
        assert done.stdout.strip() == f"ok: {report.aggregates} aggregates, {report.events} events"
    else:
        assert done.returncode == 1
    return found


def note(env: LogEnv, n: int, text: str = AWKWARD) -> NewEvent:
    return NewEvent(
        new_event_id(), "NoteAdded", 1, {"n": n, "text": text, "big": MAX_SAFE_INT, "neg": -7, "flag": True,
                                         "none": None, "list": [1, "hai", {"ba": [False]}]},
        env.clock.now(), Actor(agency="gl-btcd", officer="Cán bộ 1"),
    )  # fmt: skip


async def write(env: LogEnv, case_id: str, commits: int, per_commit: int = 1) -> None:
    ref = AggregateRef.case(case_id)
    head = Head.genesis(case_id)
    for i in range(commits):
        env.clock.advance(timedelta(minutes=1))
        result = await env.log.append(ref, [note(env, i * per_commit + j) for j in range(per_commit)], head)
        head = result.head


async def exported(env: LogEnv) -> list[RawMessage]:
    buf = io.StringIO()
    write_export([m async for m in replay(env.nc.jetstream(), env.settings.stream)], buf)
    # Lines end at "\n" only: str.splitlines() would also split at the U+2028 inside a message.
    return list(read_export(io.StringIO(buf.getvalue())))


def edited(msg: RawMessage, index: int, rehash: bool = False, **change: Any) -> RawMessage:
    """One event of a message changed; with ``rehash`` the forger also recomputes that event's own hash."""
    body = json.loads(msg.data)
    event = body["events"][index]
    event.update(change)
    if rehash:
        event["hash"] = event_hash(event)
    return RawMessage(msg.stream_seq, msg.subject, json.dumps(body, ensure_ascii=False).encode(), msg.time)


async def test_offline_verifier_agrees_with_verify_on_clean_and_tampered_exports(
    log_env: LogEnv, tmp_path: Path
) -> None:
    await write(log_env, "a1", 4)
    await write(log_env, "b2", 2, per_commit=3)  # commits of several events
    counter = AggregateRef(kind="counter", id="gl-btcd-2026")
    await log_env.log.append(counter, [note(log_env, 0, "1")], Head.genesis(counter.id))
    copy = await exported(log_env)
    assert len(copy) == 7
    assert assert_agree(tmp_path, copy) == []

    a1 = [m for m in copy if m.subject.endswith(".a1")]
    b2 = [m for m in copy if m.subject.endswith(".b2")]
    others = [m for m in copy if m not in a1]
    early = "2000-01-01T00:00:00.000000Z"
    tampered_a1 = {
        "changed": [edited(a1[0], 0, payload={"n": 99}), *a1[1:]],
        "reordered": [a1[0], a1[2], a1[1], a1[3]],
        "foreign": [*a1[:2], RawMessage(b2[0].stream_seq, a1[0].subject, b2[0].data), *a1[2:]],
        "missing": [a1[0], a1[1], a1[3]],
        "duplicated": [a1[0], a1[1], RawMessage(a1[3].stream_seq + 100, a1[1].subject, a1[1].data), a1[2]],
        "broken-link": [a1[0], edited(a1[1], 0, rehash=True, prev_hash="0" * 64), *a1[2:]],
        "time-reversed": [a1[0], edited(a1[1], 0, rehash=True, recorded_at=early), *a1[2:]],
    }
    for reason, messages in tampered_a1.items():
        found = assert_agree(tmp_path, [*messages, *others])
        assert [(f[0], f[3]) for f in found] == [(a1[0].subject, reason)]
    # An event inside a commit of several: the position names the event's index in its message.
    found = assert_agree(tmp_path, [*a1, b2[0], edited(b2[1], 2, text="sửa")])
    assert found == [(b2[0].subject, b2[1].stream_seq, 2, "changed")]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INT, MAX_SAFE_INT) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_stdlib_json_equals_jcs_for_event_values(value: Any) -> None:
    stdlib = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert stdlib == canonical_bytes(value) == bytes(rfc8785.dumps(value))


def test_stdlib_json_equals_jcs_for_awkward_text() -> None:
    value: dict[str, Any] = {"text": AWKWARD, "Z": 1, "a": [MAX_SAFE_INT, -MAX_SAFE_INT], "_": None}
    stdlib = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert stdlib == canonical_bytes(value) == bytes(rfc8785.dumps(value))
