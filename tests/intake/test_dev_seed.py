"""`casereg dev seed`: realistic generated petitions recorded through intake's submission path, and no personal
data in clear on disk (issue 3 acceptance)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date, timedelta, timezone
from pathlib import Path

import pytest
from casereg.crypto.fields import decrypt_text
from casereg.crypto.keystore import SqlKeyStore
from casereg.crypto.person import open_identity
from casereg.db import create_engine, keystore_url
from casereg.dev.seed import PROVINCE, SeedCase, directory, generate
from casereg.directory.model import Level
from casereg.log.envelope import AggregateRef
from casereg.platform.nats_embedded import EmbeddedNats
from intake.dev_seed import SUMMARY_LIMIT, request_hash, seed, summary_of, to_command
from intake.domain.events import PetitionReceived
from intake.domain.model import Channel, PetitionKind, SubjectMatterKind
from intake.domain.submission import case_id_for, counter_id

from tests.intake.conftest import IntakeEnv
from tests.log.cli_support import MASTER_KEY, CliEnv, make_cli_env, run_casereg

CITIZEN_ID = re.compile(r"^(064|052|051|066|062|040|038|001|079)[0-3][0-9]{2}[0-9]{6}$")
VIETNAM = timezone(timedelta(hours=7))
PHONE = re.compile(r"^0[35789][0-9]{8}$")
VIETNAMESE = re.compile(r"[ăâđêôơưạảãáàặẳẵắằậẩẫấầẹẻẽéèệểễếềịỉĩíìọỏõóòộổỗốồợởỡớờụủũúùựửữứừỵỷỹýỳ]", re.I)
REFORM = date(2025, 7, 1)


def case_id(case: SeedCase) -> str:
    return case_id_for(case.received_by, case.key)


def test_generate_is_deterministic_and_realistic() -> None:
    cases = generate(200, seed=7)
    assert generate(200, seed=7) == cases
    assert generate(20, seed=7) == cases[:20]
    assert generate(20, seed=8)[0] != cases[0]
    assert len({c.key for c in cases}) == 200
    assert {c.kind for c in cases} == {"complaint", "denunciation", "recommendation"}
    for case in cases:
        ident = case.identity
        assert len(ident.full_name.split()) >= 2
        assert ident.id_number is not None and CITIZEN_ID.match(ident.id_number), ident.id_number
        assert ident.phone is not None and PHONE.match(ident.phone), ident.phone
        assert ident.address is not None and ident.address.endswith(", tỉnh Gia Lai")
        assert re.search(r"(phường|xã) ", ident.address)
        assert VIETNAMESE.search(case.content)
        local = case.occurred_at.astimezone(VIETNAM)
        assert 7 <= local.hour <= 16 and local.weekday() < 5  # office hours on working days
        assert case.received_on == local.date() >= REFORM
        assert ident.full_name not in repr(case)
    assert sum(bool(VIETNAMESE.search(c.identity.full_name)) for c in cases) > 100


def test_units_and_agencies_are_real_and_in_force_on_the_day() -> None:
    cases = generate(300, seed=3)
    found = directory()
    for case in cases:
        unit = found.find_unit(case.unit_code, case.received_on)
        assert unit is not None, case.unit_code
        assert unit.level is Level.COMMUNE and unit.type in ("xã", "phường")
        assert found.province_of(unit.code, case.received_on).code == PROVINCE
        assert unit.name.split(" ", 1)[1] in (case.identity.address or "")  # the person lives in that unit
        agency = found.agency_by_id(case.received_by)
        assert agency.unit == PROVINCE and agency.period.contains(case.received_on)
    assert len({c.unit_code for c in cases}) > 50
    assert len({c.received_by for c in cases}) > 1


def test_to_command_maps_the_case_to_intake_vocabulary() -> None:
    cases = generate(100, seed=5)
    kinds = {
        "complaint": (PetitionKind.COMPLAINT, SubjectMatterKind.DECISION),
        "denunciation": (PetitionKind.DENUNCIATION, SubjectMatterKind.OFFICIAL),
        "recommendation": (PetitionKind.RECOMMENDATION, SubjectMatterKind.POLICY),
    }
    channels = {
        "in_person": Channel.IN_PERSON,
        "mail": Channel.POST,
        "online": Channel.ONLINE,
        "forwarded": Channel.FORWARDED,
    }
    for case in cases:
        caller, cmd = to_command(case)
        assert caller.agency == case.received_by and caller.role == "clerk" and caller.officer == "dev-seed"
        assert cmd.idempotency_key == f"seed-5-{case.index}"
        assert (cmd.declared_kind, cmd.subject_matter.kind) == kinds[case.kind]
        assert cmd.channel == channels[case.channel]
        assert cmd.received_on == case.received_on and cmd.unit_code == case.unit_code
        assert cmd.content == case.content
        assert cmd.summary and len(cmd.summary) <= SUMMARY_LIMIT and case.content.startswith(cmd.summary)
        assert cmd.summary.endswith((".", "!", "?")) or len(cmd.summary) == SUMMARY_LIMIT
        assert [s.identity for s in cmd.submitters] == [case.identity] and cmd.people_count == 1
        assert re.fullmatch(r"[0-9a-f]{64}", cmd.request_hash)
        assert case.identity.full_name not in repr(cmd)
    assert len({request_hash(c) for c in cases}) == len(cases)
    assert [to_command(c) for c in generate(10, seed=5)] == [to_command(c) for c in cases[:10]]
    assert summary_of("Một câu. Câu hai.") == "Một câu."
    assert summary_of("x" * 600) == "x" * SUMMARY_LIMIT


async def test_seed_records_intake_petitions_and_adds_nothing_the_second_time(intake_env: IntakeEnv) -> None:
    deps = await intake_env.deps()
    cases = generate(12, seed=21)
    seen: list[tuple[int, int]] = []
    first = await seed(deps, cases, chunk=5, progress=lambda done, total: seen.append((done, total)))
    assert (first.written, first.already_there) == (12, 0)
    assert seen == [(5, 12), (10, 12), (12, 12)]
    again = await seed(deps, cases, chunk=64)
    assert (again.written, again.already_there, again.total) == (0, 12, 12)
    for case in cases:
        events = await deps.log.events(AggregateRef.case(case_id(case)))
        assert [e.type for e in events] == ["PetitionReceived"]
        payload = PetitionReceived.model_validate(events[0].payload)
        assert payload.receipt_no >= 1 and payload.unit_code == case.unit_code
        sealed = payload.submitters[0].identity
        assert sealed is not None and open_identity(intake_env.keys, sealed) == case.identity


def clear_values(cases: list[SeedCase]) -> dict[bytes, str]:
    """Every personal value of the generated cases (UTF-8 bytes) -> what it is, for the report."""
    needles: dict[bytes, str] = {}
    for case in cases:
        ident = case.identity
        for field in ("full_name", "id_number", "phone", "address"):
            value = getattr(ident, field)
            assert value
            needles[value.encode("utf-8")] = f"case {case.index} {field}"
        needles[case.content.encode("utf-8")] = f"case {case.index} content"
        needles[summary_of(case.content).encode("utf-8")] = f"case {case.index} summary"
    return needles


def files_under(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


async def store_files_holding(store: Path, markers: list[bytes], wait: float = 10.0) -> dict[Path, bytes]:
    """The NATS data files, once every marker is visible in them: proves the scan sees the stored bodies."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        files = files_under(store)
        blob = b"\n".join(files.values())
        missing = [m for m in markers if m not in blob]
        if not missing or asyncio.get_running_loop().time() > deadline:
            assert not missing, f"{len(missing)} seeded events never reached the files under {store}"
            return files
        await asyncio.sleep(0.2)


@pytest.fixture
def cli_env(nats_server: EmbeddedNats, intake_env: IntakeEnv, tmp_path: Path) -> CliEnv:
    return make_cli_env(nats_server, intake_env.settings, tmp_path)


@pytest.mark.slow
async def test_seed_50_leaves_no_name_or_id_number_in_clear(
    nats_server: EmbeddedNats, intake_env: IntakeEnv, cli_env: CliEnv
) -> None:
    done = await run_casereg(cli_env, "dev", "seed", "50", "--seed", "7")
    assert done.returncode == 0, done.stderr
    assert "seeded 50 cases: 50 new, 0 already there" in done.stdout
    assert "seeding 50 cases (seed 7)" in done.stderr and "seeded 50/50" in done.stderr
    assert "Traceback" not in done.stderr
    cases = generate(50, seed=7)
    log = (await intake_env.deps()).log

    # The events are intake's PetitionReceived, and they open with the key store.
    engine = create_engine(keystore_url(cli_env.settings))
    keys = SqlKeyStore(engine, MASTER_KEY)
    hashes: list[bytes] = []
    try:
        for case in cases:
            cid = case_id(case)
            _, cmd = to_command(case)
            events = await log.events(AggregateRef.case(cid))
            assert [e.type for e in events] == ["PetitionReceived"]
            (event,) = events
            assert event.actor.agency == case.received_by and event.actor.officer == "dev-seed"
            payload = PetitionReceived.model_validate(event.payload)
            assert payload.received_by == case.received_by and payload.declared_kind == cmd.declared_kind
            assert payload.channel == cmd.channel and payload.unit_code == case.unit_code
            assert payload.received_on == case.received_on and payload.request_hash == cmd.request_hash
            (submitter,) = payload.submitters
            assert submitter.identity is not None
            assert open_identity(keys, submitter.identity) == case.identity
            assert payload.content is not None
            assert payload.summary.kid == payload.content.kid == f"case-{cid}"
            assert decrypt_text(keys, payload.summary, "case.summary") == summary_of(case.content)
            assert decrypt_text(keys, payload.content, "case.content") == case.content
            hashes.append(event.hash.encode())
    finally:
        engine.dispose()

    # Nothing personal in any file of the NATS data directory (nor in the CLI's own var dir). The event hashes
    # (found only in the stored message bodies) must be visible first, so the scan provably reads the data.
    files = await store_files_holding(nats_server.options.store_dir, hashes)
    files.update(files_under(cli_env.var_dir))
    needles = clear_values(cases)
    leaks = sorted({(label, str(path)) for path, data in files.items() for n, label in needles.items() if n in data})
    assert leaks == []

    # The operator's view: history shows the event with its personal fields hidden; the chains verify.
    first = cases[0]
    shown = await run_casereg(cli_env, "history", case_id(first), "--lang", "en", "--json")
    assert shown.returncode == 0, shown.stderr
    entries = [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]
    assert [e["type"] for e in entries] == ["PetitionReceived"]
    assert "<encrypted>" in shown.stdout
    assert first.identity.full_name not in shown.stdout
    assert first.identity.id_number and first.identity.id_number not in shown.stdout
    checked = await run_casereg(cli_env, "verify", "--all")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    counters = {counter_id(c.received_by, c.received_on.year) for c in cases}  # one receipt counter per agency-year
    # ... and the history read itself left one access record (an aggregate of its own, DESIGN §2).
    assert f"ok: {50 + len(counters) + 1} aggregates, 101 events" in checked.stdout

    # Seeding the same cases again is recognised and stores nothing new. (Receipt numbers of one agency written
    # together share a counter commit, so there are 50 case messages and up to 50 counter messages.)
    before = (await log.js.stream_info(intake_env.settings.stream)).state.messages
    assert 50 + len(counters) + 1 <= before <= 101
    again = await run_casereg(cli_env, "dev", "seed", "50", "--seed", "7")
    assert again.returncode == 0, again.stderr
    assert "0 new, 50 already there" in again.stdout
    info = await log.js.stream_info(intake_env.settings.stream)
    assert info.state.messages == before


async def test_seed_refuses_a_missing_stream_cleanly(cli_env: CliEnv) -> None:
    done = await run_casereg(cli_env.with_(CASEREG_STREAM="NO_SUCH_STREAM"), "dev", "seed", "3")
    assert done.returncode == 1
    assert "does not exist" in done.stderr and "casereg provision" in done.stderr
    assert "Traceback" not in done.stderr
