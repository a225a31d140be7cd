"""`casereg dev seed`: realistic generated petitions, and no personal data in clear on disk (issue 3 acceptance)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from casereg.crypto.fields import decrypt_text
from casereg.crypto.keystore import SqlKeyStore
from casereg.crypto.person import open_identity
from casereg.db import create_engine, keystore_url
from casereg.dev.seed import CONTENT_CONTEXT, PetitionReceived, SeedCase, generate
from casereg.log.envelope import AggregateRef
from casereg.platform.nats_embedded import EmbeddedNats

from tests.log.cli_support import MASTER_KEY, CliEnv, make_cli_env, run_casereg
from tests.log.conftest import LogEnv

CITIZEN_ID = re.compile(r"^(064|052|051|066|062|040|038|001|079)[0-3][0-9]{2}[0-9]{6}$")
VIETNAM = timezone(timedelta(hours=7))
PHONE = re.compile(r"^0[35789][0-9]{8}$")
VIETNAMESE = re.compile(r"[ăâđêôơưạảãáàặẳẵắằậẩẫấầẹẻẽéèệểễếềịỉĩíìọỏõóòộổỗốồợởỡớờụủũúùựửữứừỵỷỹýỳ]", re.I)


def test_generate_is_deterministic_and_realistic() -> None:
    cases = generate(200, seed=7)
    assert generate(200, seed=7) == cases
    assert generate(20, seed=7) == cases[:20]
    assert generate(20, seed=8)[0].case_id != cases[0].case_id
    assert len({c.case_id for c in cases}) == 200
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
        assert ident.full_name not in repr(case)
    assert sum(bool(VIETNAMESE.search(c.identity.full_name)) for c in cases) > 100


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
def cli_env(nats_server: EmbeddedNats, log_env: LogEnv, tmp_path: Path) -> CliEnv:
    return make_cli_env(nats_server, log_env.settings, tmp_path)


@pytest.mark.slow
async def test_seed_50_leaves_no_name_or_id_number_in_clear(
    nats_server: EmbeddedNats, log_env: LogEnv, cli_env: CliEnv
) -> None:
    done = await run_casereg(cli_env, "dev", "seed", "50", "--seed", "7")
    assert done.returncode == 0, done.stderr
    assert "seeded 50 cases: 50 new, 0 already there" in done.stdout
    assert "Traceback" not in done.stderr
    cases = generate(50, seed=7)

    # The events are there and open with the key store.
    engine = create_engine(keystore_url(cli_env.settings))
    keys = SqlKeyStore(engine, MASTER_KEY)
    hashes: list[bytes] = []
    try:
        for case in cases:
            events = await log_env.log.events(AggregateRef.case(case.case_id))
            assert [e.type for e in events] == ["PetitionReceived"]
            (event,) = events
            assert event.event_id == case.event_id and event.occurred_at == case.occurred_at
            payload = PetitionReceived.model_validate(event.payload)
            assert payload.kind == case.kind and payload.received_by == case.received_by
            assert open_identity(keys, payload.petitioner) == case.identity
            assert decrypt_text(keys, payload.content, CONTENT_CONTEXT) == case.content
            assert payload.content.kid == f"case-{case.case_id}"
            assert payload.petitioner.person_key == f"person-{case.person_id}"
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
    shown = await run_casereg(cli_env, "history", first.case_id)
    assert shown.returncode == 0, shown.stderr
    assert len([line for line in shown.stdout.splitlines() if line.startswith("seq ")]) == 1
    assert "PetitionReceived v1" in shown.stdout and "<encrypted>" in shown.stdout
    assert first.identity.full_name not in shown.stdout
    checked = await run_casereg(cli_env, "verify", "--all")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ok: 50 aggregates, 50 events" in checked.stdout

    # Seeding the same cases again is recognised and stores nothing new.
    again = await run_casereg(cli_env, "dev", "seed", "50", "--seed", "7")
    assert again.returncode == 0, again.stderr
    assert "0 new, 50 already there" in again.stdout
    info = await log_env.nc.jetstream().stream_info(log_env.settings.stream)
    assert info.state.messages == 50


async def test_seed_refuses_a_missing_stream_cleanly(cli_env: CliEnv) -> None:
    done = await run_casereg(cli_env.with_(CASEREG_STREAM="NO_SUCH_STREAM"), "dev", "seed", "3")
    assert done.returncode == 1
    assert "does not exist" in done.stderr and "casereg provision" in done.stderr
    assert "Traceback" not in done.stderr
