"""Master-key rotation (issue 11 item 4): data keys re-wrapped under a new master key, old and new coexisting
while it runs, crash-safe and re-runnable, destroyed keys left destroyed; ``casereg keys rotate``. The log is not
involved at all: ciphertexts name data keys, and data keys do not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from casereg.crypto.cli import register
from casereg.crypto.fields import decrypt_text, encrypt_text
from casereg.crypto.keystore import KeyDestroyed, RotationProgress, SqlKeyStore, WrongMasterKey, kek_id
from casereg.db import KEYSTORE_MIGRATIONS, create_engine, migrate
from typer.testing import CliRunner

OLD, NEW = "the-old-master-key", "the-new-master-key"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The key store on SQLite and on PostgreSQL (a schema of its own), migrated."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'keystore.db'}"
    else:
        url = str(request.getfixturevalue("pg_schema_url"))
    migrate(url, [KEYSTORE_MIGRATIONS])
    return url


@pytest.fixture
def engine(url: str) -> Iterator[sa.Engine]:
    engine = create_engine(url)
    yield engine
    engine.dispose()


def _kek_ids(engine: sa.Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return {r.key_id: r.kek_id for r in conn.execute(sa.text("select key_id, kek_id from data_keys"))}


def test_rotation_rewraps_every_live_key_and_the_data_stays_readable(engine: sa.Engine) -> None:
    old = SqlKeyStore(engine, OLD)
    texts = {f"person-{i}": encrypt_text(old, f"person-{i}", f"Nguyễn Văn {i}", "person.full_name") for i in range(7)}
    old.destroy("person-6")
    # Rows written before rows named their key-encryption key.
    with engine.begin() as conn:
        conn.execute(sa.text("update data_keys set kek_id = null where key_id = 'person-0'"))

    during = SqlKeyStore(engine, NEW, previous=[OLD])
    assert during.count_to_rotate() == 6
    seen: list[RotationProgress] = []
    assert during.rotate(batch=4, progress=seen.append) == 6
    assert [p.rewrapped for p in seen] == [4, 6]
    assert seen[-1].remaining == 0

    ids = _kek_ids(engine)
    assert {ids[k] for k in ids if k != "person-6"} == {kek_id(NEW)}
    after = SqlKeyStore(engine, NEW)  # the old master key is gone
    for key_id, value in texts.items():
        if key_id == "person-6":
            with pytest.raises(KeyDestroyed):
                after.get(key_id)
        else:
            assert decrypt_text(after, value, "person.full_name") == f"Nguyễn Văn {key_id[-1]}"
    with pytest.raises(WrongMasterKey):
        SqlKeyStore(engine, OLD).get("person-1")
    assert during.rotate() == 0  # re-running does nothing


def test_an_interrupted_rotation_leaves_every_key_readable_and_completes_when_run_again(engine: sa.Engine) -> None:
    old = SqlKeyStore(engine, OLD)
    old.prepare([f"case-{i}" for i in range(5)])
    raw = {f"case-{i}": old.get(f"case-{i}") for i in range(5)}
    during = SqlKeyStore(engine, NEW, previous=[OLD])

    def crash(progress: RotationProgress) -> None:
        raise KeyboardInterrupt  # the operator's Ctrl-C after the first batch committed

    with pytest.raises(KeyboardInterrupt):
        during.rotate(batch=2, progress=crash)
    assert sorted(_kek_ids(engine).values(), key=str) == sorted([kek_id(NEW)] * 2 + [kek_id(OLD)] * 3, key=str)
    both = SqlKeyStore(engine, NEW, previous=[OLD])
    assert {k: both.get(k) for k in raw} == raw  # mixed rows: each opens under the key it names
    with pytest.raises(WrongMasterKey, match="CASEREG_PREVIOUS_MASTER_KEYS"):
        SqlKeyStore(engine, NEW).prepare(list(raw))  # without the old key, the old rows cannot open

    assert both.rotate(batch=2) == 3
    assert {k: SqlKeyStore(engine, NEW).get(k) for k in raw} == raw
    new_keys = SqlKeyStore(engine, NEW)
    new_keys.prepare(["case-new"])
    assert _kek_ids(engine)["case-new"] == kek_id(NEW)


def test_the_keys_rotate_command(engine: sa.Engine, url: str, tmp_path: Path) -> None:
    SqlKeyStore(engine, OLD).prepare(["person-a", "person-b", "case-c"])
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    runner = CliRunner()
    env = {"CASEREG_KEYSTORE_URL": url, "CASEREG_VAR_DIR": str(tmp_path), "CASEREG_MASTER_KEY": NEW}

    refused = runner.invoke(app, ["keys", "rotate"], env=env)
    assert refused.exit_code == 1
    assert "CASEREG_PREVIOUS_MASTER_KEYS" in refused.stderr
    assert set(_kek_ids(engine).values()) == {kek_id(OLD)}  # nothing changed

    env["CASEREG_PREVIOUS_MASTER_KEYS"] = f"something-else, {OLD}"
    status = runner.invoke(app, ["keys", "status"], env=env)
    assert status.exit_code == 0 and "3 live data keys still to re-wrap" in status.stdout
    done = runner.invoke(app, ["keys", "rotate", "--batch", "2"], env=env)
    assert done.exit_code == 0, done.output
    assert "re-wrapped 3 data keys; 0 left" in done.stdout
    assert "re-wrapped 2, 1 to go" in done.stderr
    assert set(_kek_ids(engine).values()) == {kek_id(NEW)}
    again = runner.invoke(app, ["keys", "rotate"], env=env)
    assert again.exit_code == 0 and "re-wrapped 0 data keys" in again.stdout
