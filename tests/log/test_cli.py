"""`casereg history`, `verify` and `export` against a real nats-server (issue 3)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from casereg.access.records import access_records
from casereg.crypto.keystore import SqlKeyStore
from casereg.db import KEYSTORE_MIGRATIONS, create_engine, migrate
from casereg.dev.seed import SeedCase, generate
from casereg.log.canonical import format_time
from casereg.log.cli import parse_as_of, redact
from casereg.log.envelope import Actor, AggregateRef, new_event_id
from casereg.log.events import NewEvent
from casereg.log.export import read_export
from casereg.log.store import AppendResult
from casereg.platform.credentials import NatsCredentials, credentials_path
from casereg.platform.nats_embedded import EmbeddedNats, free_port
from intake.dev_seed import seed
from intake.domain.submission import case_id_for, counter_id
from intake.handlers.deps import IntakeDeps

from tests.log.cli_support import CliEnv, invoke, make_cli_env
from tests.log.conftest import LogEnv


@dataclass
class Written:
    """Three generated petitions recorded by intake (each also numbered on its agency's receipt counter)."""

    cases: list[SeedCase]
    #: The first case has three commits: the petition and two notes.
    commits: list[AppendResult]
    #: The clock's time when intake recorded them.
    seeded_at: datetime

    @property
    def first(self) -> SeedCase:
        return self.cases[0]

    @property
    def first_id(self) -> str:
        return self.case_id(0)

    def case_id(self, index: int) -> str:
        case = self.cases[index]
        return case_id_for(case.received_by, case.key)

    @property
    def counters(self) -> int:
        """How many receipt counter aggregates the submissions wrote to."""
        return len({counter_id(c.received_by, c.received_on.year) for c in self.cases})


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    migrate(url, [KEYSTORE_MIGRATIONS])
    engine = create_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
async def written(log_env: LogEnv, engine: sa.Engine) -> Written:
    cases = generate(3, seed=11)
    seeded_at = log_env.clock.now()
    await seed(IntakeDeps(log=log_env.log, keys=SqlKeyStore(engine, "k"), clock=log_env.clock), cases)
    ref = AggregateRef.case(case_id_for(cases[0].received_by, cases[0].key))
    head = (await log_env.log.load(ref, lambda s, e: s, None)).head
    commits = []
    for text in ("Đã chuyển đơn đến Thanh tra tỉnh.", "Đã thông báo cho công dân."):
        log_env.clock.advance(timedelta(hours=1))
        note = NewEvent(new_event_id(), "NoteAdded", 1, {"note": text}, log_env.clock.now(), Actor(officer="o-7"))
        result = await log_env.log.append(ref, [note], head)
        commits.append(result)
        head = result.head
    return Written(cases, commits, seeded_at)


@pytest.fixture
def cli_env(nats_server: EmbeddedNats, log_env: LogEnv, tmp_path: Path) -> CliEnv:
    return make_cli_env(nats_server, log_env.settings, tmp_path)


def event_lines(stdout: str) -> list[str]:
    """The first line of each timeline entry: its time (in Vietnam) and its event."""
    return [line for line in stdout.splitlines() if re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \(\+07\)", line)]


async def test_history_shows_a_timeline_with_encrypted_fields_hidden(
    written: Written, cli_env: CliEnv, log_env: LogEnv
) -> None:
    result = await invoke(cli_env, "history", written.first_id)
    assert result.exit_code == 0, result.output
    lines = event_lines(result.stdout)
    assert len(lines) == 3
    assert lines[0].startswith("2026-07-01 15:00:00 (+07)  Tiếp nhận đơn [PetitionReceived]")
    assert "NoteAdded [NoteAdded]  (loại sự kiện chưa có nhãn)" in lines[2]  # an unknown type keeps its raw name
    assert f"Người thực hiện: {written.first.received_by} / dev-seed" in result.stdout
    assert "Tóm tắt: đã mã hoá" in result.stdout and '"full_name": "đã mã hoá"' in result.stdout
    assert "Đã thông báo cho công dân." in result.stdout  # a clear note stays readable
    english = await invoke(cli_env, "history", written.first_id, "--lang", "en")
    assert english.exit_code == 0, english.output
    assert "Petition received [PetitionReceived]" in english.stdout and "Summary: <encrypted>" in english.stdout
    assert "By: " in english.stdout and "(event type without labels)" in english.stdout
    ident = written.first.identity
    for value in (ident.full_name, ident.id_number, ident.phone, ident.address, written.first.content):
        for out in (result.stdout, english.stdout):
            assert value is not None and value not in out
    # Each read is an access record on the case's access subject, by the operator.
    records = await access_records(log_env.log, written.first_id)
    assert [r.action.value for r in records] == ["history", "history"]
    assert records[0].actor.role == "operator" and records[0].detail == "all events"


async def test_history_json_prints_timeline_entries(written: Written, cli_env: CliEnv) -> None:
    result = await invoke(cli_env, "history", written.first_id, "--json", "--lang", "en")
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert [e["type"] for e in entries] == ["PetitionReceived", "NoteAdded", "NoteAdded"]
    assert entries[0]["label"] == "Petition received" and entries[0]["actor"]["officer"] == "dev-seed"
    facts = {f["field"]: f["value"] for f in entries[0]["facts"]}
    assert facts["summary"] == "<encrypted>" and facts["received_by"] == written.first.received_by
    assert entries[2]["stream_seq"] == written.commits[1].stream_seq
    assert '"ct"' not in result.stdout and "nonce" not in result.stdout


async def test_history_as_of_sequence_and_time(written: Written, cli_env: CliEnv) -> None:
    case_id = written.first_id
    second = written.commits[0]
    by_seq = await invoke(cli_env, "history", case_id, "--as-of", str(second.stream_seq))
    assert by_seq.exit_code == 0, by_seq.output
    assert len(event_lines(by_seq.stdout)) == 2
    at = format_time(second.events[0].recorded_at)
    by_time = await invoke(cli_env, "history", case_id, "--as-of", at)
    assert len(event_lines(by_time.stdout)) == 2
    before = format_time(second.events[0].recorded_at - timedelta(days=365))
    nothing = await invoke(cli_env, "history", case_id, "--as-of", before)
    assert nothing.exit_code == 0 and event_lines(nothing.stdout) == []
    assert "no events" in nothing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["history", "bad.case"], "invalid case id"),
        (["history", "no-such-case"], "no case 'no-such-case'"),
        (["history", "x", "--as-of", "yesterday"], "neither a stream sequence nor an RFC 3339 time"),
        (["history", "x", "--as-of", "2026-07-01T08:00:00"], "needs a UTC offset"),
        (["verify", "no-such-case"], "no case 'no-such-case'"),
        (["verify"], "give a CASE_ID, --all, or --file"),
        (["verify", "x", "--all"], "not both"),
        (["export", "no-such-case", "-o", "out.jsonl"], "no case 'no-such-case'"),
    ],
)
async def test_clear_errors_without_traceback(written: Written, cli_env: CliEnv, args: list[str], message: str) -> None:
    result = await invoke(cli_env, *args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


async def test_unreachable_server_and_missing_stream_are_clear_errors(written: Written, cli_env: CliEnv) -> None:
    down = cli_env.with_(CASEREG_NATS_URL=f"nats://127.0.0.1:{free_port()}")
    for args in (["history", "x"], ["verify", "--all"], ["export", "x", "-o", "f.jsonl"]):
        result = await invoke(down, *args)
        assert result.exit_code == 1, result.output
        assert "cannot connect to NATS at nats://127.0.0.1:" in result.stderr
        assert "Traceback" not in result.output
    missing = cli_env.with_(CASEREG_STREAM="NO_SUCH_STREAM")
    for args in (["history", written.first_id], ["verify", "--all"]):
        result = await invoke(missing, *args)
        assert result.exit_code == 1, result.output
        assert "stream 'NO_SUCH_STREAM' does not exist" in result.stderr
    no_credentials = cli_env.with_(CASEREG_VAR_DIR=str(cli_env.var_dir / "elsewhere"))
    result = await invoke(no_credentials, "history", "x")
    assert result.exit_code == 1 and "nats-users.json does not exist" in result.stderr
    wrong = make_cli_env_with_passwords(cli_env, NatsCredentials.generate())
    result = await invoke(wrong, "history", "x")
    assert result.exit_code == 1, result.output
    assert "as 'operator'" in result.stderr and "authorization" in result.stderr.lower()


def make_cli_env_with_passwords(env: CliEnv, credentials: NatsCredentials) -> CliEnv:
    var_dir = env.var_dir.parent / "wrong-var"
    path = credentials_path(var_dir)
    path.parent.mkdir(parents=True)
    path.write_text(credentials.dump())
    return env.with_(CASEREG_VAR_DIR=str(var_dir))


async def test_verify_one_case_and_all(written: Written, cli_env: CliEnv) -> None:
    one = await invoke(cli_env, "verify", written.first_id)
    assert one.exit_code == 0, one.output
    assert one.stdout.strip() == "ok: 1 aggregates, 3 events"
    every = await invoke(cli_env, "verify", "--all")
    assert every.exit_code == 0, every.output
    # 3 cases (3 + 2 events) and the receipt counters (one event per case).
    assert every.stdout.strip() == f"ok: {3 + written.counters} aggregates, 8 events"
    assert "reading stream" in every.stderr  # progress goes to stderr


async def test_export_then_verify_the_file_and_a_tampered_copy(
    written: Written, cli_env: CliEnv, log_env: LogEnv, tmp_path: Path
) -> None:
    out = tmp_path / "export.jsonl"
    ids = [written.case_id(1), written.first_id]
    result = await invoke(cli_env, "export", *ids, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"exported 4 messages of 2 case(s) to {out}" in result.stdout
    lines = out.read_text(encoding="utf-8").splitlines()
    messages = list(read_export(lines))
    assert [m.stream_seq for m in messages] == sorted(m.stream_seq for m in messages)
    assert {AggregateRef.from_subject(m.subject).id for m in messages} == set(ids)
    for case_id in ids:  # each exported case has its access record, naming what left
        (record,) = await access_records(log_env.log, case_id)
        seqs = [m.stream_seq for m in messages if m.subject.endswith(case_id)]
        assert record.action.value == "export" and record.actor.role == "operator"
        assert record.detail == f"export of stream seq {seqs[0]}..{seqs[-1]} ({len(seqs)} messages)"

    clean = await invoke(cli_env, "verify", "--file", str(out))
    assert clean.exit_code == 0 and clean.stdout.strip() == "ok: 2 aggregates, 4 events"
    only_one = await invoke(cli_env, "verify", written.first_id, "--file", str(out))
    assert only_one.exit_code == 0 and only_one.stdout.strip() == "ok: 1 aggregates, 3 events"

    # A changed note in the second commit of the first case.
    first_subject = AggregateRef.case(written.first_id).subject(cli_env.settings.province)
    first_case_lines = [i for i, m in enumerate(messages) if m.subject == first_subject]
    target = first_case_lines[1]
    row = json.loads(lines[target])
    body = json.loads(row["data"])
    body["events"][0]["payload"]["note"] = "Đơn đã được giải quyết xong."
    row["data"] = json.dumps(body, ensure_ascii=False)
    tampered = tmp_path / "tampered.jsonl"
    edited = [*lines[:target], json.dumps(row, ensure_ascii=False), *lines[target + 1 :]]
    tampered.write_text("\n".join(edited) + "\n", encoding="utf-8")
    broken = await invoke(cli_env, "verify", "--file", str(tampered))
    assert broken.exit_code == 1, broken.output
    assert f"{first_subject} stream seq {row['stream_seq']}, event #0" in broken.stdout
    assert "changed: the event's content does not match its hash" in broken.stdout
    assert "FAILED: 1 of 2 aggregates broken" in broken.stdout

    # The same export with the first case's middle commit removed.
    removed = tmp_path / "removed.jsonl"
    removed.write_text("\n".join(line for i, line in enumerate(lines) if i != target) + "\n", encoding="utf-8")
    gap = await invoke(cli_env, "verify", "--file", str(removed))
    assert gap.exit_code == 1 and "missing: seq 2..2 removed before this event" in gap.stdout


async def test_verify_file_errors(cli_env: CliEnv, tmp_path: Path) -> None:
    absent = await invoke(cli_env, "verify", "--file", str(tmp_path / "none.jsonl"))
    assert absent.exit_code == 1 and "cannot read" in absent.stderr
    junk = tmp_path / "junk.jsonl"
    junk.write_text("this is not json\n")
    bad = await invoke(cli_env, "verify", "--file", str(junk))
    assert bad.exit_code == 1 and "line 1: not an export line" in bad.stderr


def test_redact_hides_every_encrypted_field() -> None:
    enc = {"alg": "A256GCM", "kid": "person-1", "nonce": "bm9uY2U=", "ct": "Y3Q="}
    payload = {"a": enc, "b": [enc, {"c": enc, "d": 1}], "e": "clear", "f": {"kid": "not encrypted"}}
    assert redact(payload) == {
        "a": "<encrypted>",
        "b": ["<encrypted>", {"c": "<encrypted>", "d": 1}],
        "e": "clear",
        "f": {"kid": "not encrypted"},
    }


def test_parse_as_of() -> None:
    assert parse_as_of("42") == 42
    when = parse_as_of("2026-07-01T15:00:00+07:00")
    assert not isinstance(when, int) and format_time(when) == "2026-07-01T08:00:00.000000Z"
    assert parse_as_of("2026-07-01T08:00:00.5Z") == parse_as_of("2026-07-01T08:00:00.500000+00:00")
