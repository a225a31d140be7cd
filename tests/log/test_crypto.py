"""Personal data building blocks: encrypted fields, wrapped data keys, crypto-shredding, blind indexes."""

from __future__ import annotations

import asyncio
import base64
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from casereg.crypto.fields import Encrypted, blind_index, decrypt_text, encrypt_text
from casereg.crypto.keys import derive_key
from casereg.crypto.keystore import KeyDestroyed, SqlKeyStore
from casereg.crypto.person import PersonIdentity, open_identity, seal_identity
from casereg.db import KEYSTORE_MIGRATIONS, create_engine, migrate
from cryptography.exceptions import InvalidTag

MASTER = "test-master-secret"
IDENTITY = PersonIdentity(
    full_name="Nguyễn Thị Thu Hà",
    id_number="064190123456",
    address="Số 12 đường Trần Hưng Đạo, phường Pleiku, tỉnh Gia Lai",
    phone="0912345678",
)


@pytest.fixture
def keystore_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'keystore.db'}"
    migrate(url, [KEYSTORE_MIGRATIONS])
    return url


@pytest.fixture
def engine(keystore_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(keystore_url)
    yield engine
    engine.dispose()


@pytest.fixture
def keys(engine: sa.Engine) -> SqlKeyStore:
    return SqlKeyStore(engine, MASTER)


def test_round_trip_and_fresh_nonces(keys: SqlKeyStore) -> None:
    text = "Tôi tố cáo cán bộ xã Ia Grai đã nhận tiền của các hộ dân."
    first = encrypt_text(keys, "case-c1", text, "petition.content")
    second = encrypt_text(keys, "case-c1", text, "petition.content")
    assert first.alg == "A256GCM" and first.kid == "case-c1"
    assert first.nonce != second.nonce and first.ct != second.ct
    assert text.encode() not in base64.b64decode(first.ct)
    assert decrypt_text(keys, first, "petition.content") == text
    assert decrypt_text(keys, second, "petition.content") == text
    # The stored shape survives JSON (what the log holds).
    assert decrypt_text(keys, Encrypted.model_validate_json(first.model_dump_json()), "petition.content") == text


def test_keys_survive_a_restart_and_are_wrapped(engine: sa.Engine, keys: SqlKeyStore) -> None:
    enc = encrypt_text(keys, "person-p1", "Lê Văn Nam", "person.full_name")
    raw_key = keys.get("person-p1")
    fresh = SqlKeyStore(engine, MASTER)  # no cache: reads and unwraps the stored key
    assert decrypt_text(fresh, enc, "person.full_name") == "Lê Văn Nam"
    with engine.connect() as conn:
        wrapped = conn.execute(sa.text("select wrapped from data_keys where key_id = 'person-p1'")).scalar_one()
    assert raw_key not in wrapped
    with pytest.raises(InvalidTag):
        SqlKeyStore(engine, "another-master-secret").get("person-p1")
    with pytest.raises(KeyError):
        fresh.get("person-unknown")


def test_wrong_context_or_moved_ciphertext_fails(keys: SqlKeyStore) -> None:
    name = encrypt_text(keys, "person-p1", "Trần Văn Bình", "person.full_name")
    with pytest.raises(InvalidTag):
        decrypt_text(keys, name, "person.address")
    keys.get_or_create("person-p2")
    moved = name.model_copy(update={"kid": "person-p2"})  # pasted into another person's record
    with pytest.raises(InvalidTag):
        decrypt_text(keys, moved, "person.full_name")
    tampered_ct = bytearray(base64.b64decode(name.ct))
    tampered_ct[0] ^= 1
    changed = name.model_copy(update={"ct": base64.b64encode(bytes(tampered_ct)).decode()})
    with pytest.raises(InvalidTag):
        decrypt_text(keys, changed, "person.full_name")


def test_sealed_identity_holds_no_clear_value(keys: SqlKeyStore) -> None:
    sealed = seal_identity(keys, "p1", IDENTITY)
    stored = sealed.model_dump_json()
    for value in (IDENTITY.full_name, IDENTITY.id_number, IDENTITY.address, IDENTITY.phone):
        assert value is not None and value not in stored
    assert sealed.person_key == "person-p1"
    assert open_identity(keys, sealed) == IDENTITY
    assert IDENTITY.full_name not in repr(IDENTITY) and IDENTITY.full_name not in str(IDENTITY)
    partial = seal_identity(keys, "p2", PersonIdentity(full_name="Ksor H'Bia"))
    assert partial.phone is None and open_identity(keys, partial) == PersonIdentity(full_name="Ksor H'Bia")


def test_destroyed_key_erases_the_person_only(engine: sa.Engine, keys: SqlKeyStore) -> None:
    erased = seal_identity(keys, "p1", IDENTITY)
    kept = seal_identity(keys, "p2", IDENTITY.model_copy(update={"full_name": "Phạm Minh Quân"}))
    keys.destroy("person-p1")
    assert open_identity(keys, erased) is None
    assert decrypt_text(keys, erased.full_name, "person.full_name") is None
    with pytest.raises(KeyDestroyed):
        keys.get("person-p1")
    fresh = SqlKeyStore(engine, MASTER)
    assert open_identity(fresh, erased) is None
    opened = open_identity(fresh, kept)
    assert opened is not None and opened.full_name == "Phạm Minh Quân"
    with engine.connect() as conn:
        row = conn.execute(sa.text("select wrapped, destroyed_at from data_keys where key_id='person-p1'")).one()
    assert row.wrapped is None and row.destroyed_at is not None


def test_blind_index_matches_the_same_name_typed_differently() -> None:
    key = derive_key("blind-index-secret", "blind index")
    canonical = blind_index(key, "person.full_name", "Nguyễn Văn An")
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert decomposed != "Nguyễn Văn An"
    for typed in ("Nguyễn Văn An", "  nguyễn   văn AN ", decomposed, "NGUYỄN VĂN AN"):
        assert blind_index(key, "person.full_name", typed) == canonical
    assert blind_index(key, "person.full_name", "Nguyễn Văn Anh") != canonical
    assert blind_index(key, "person.address", "Nguyễn Văn An") != canonical  # per purpose
    assert blind_index(derive_key("other-secret", "blind index"), "person.full_name", "Nguyễn Văn An") != canonical
    assert len(canonical) == 64 and "Nguy" not in canonical


def test_derived_keys_differ_per_purpose() -> None:
    assert derive_key("s", "a") != derive_key("s", "b")
    assert derive_key("s", "a") == derive_key("s", "a")
    assert len(derive_key("s", "a")) == 32


def test_prepare_creates_missing_keys_in_one_go_and_keeps_existing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    migrate(url, [KEYSTORE_MIGRATIONS])
    first = SqlKeyStore(create_engine(url), "master")
    existing = first.get_or_create("person-1")
    first.prepare(["person-1", "person-2", "case-9", "person-2"])
    again = SqlKeyStore(create_engine(url), "master")  # a fresh process sees the same keys
    assert again.get("person-1") == existing
    assert again.get("person-2") == first.get("person-2")
    assert again.get("case-9") == first.get("case-9")


async def test_prepare_async_shares_commits_between_concurrent_callers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    migrate(url, [KEYSTORE_MIGRATIONS])
    engine = create_engine(url)
    commits: list[int] = []
    sa.event.listen(engine, "commit", lambda conn: commits.append(1))
    keys = SqlKeyStore(engine, "master")
    await asyncio.gather(*(keys.prepare_async([f"person-{i}", "case-shared"]) for i in range(40)))
    assert len(commits) < 40  # rounds of group commit, not one transaction per caller
    fresh = SqlKeyStore(create_engine(url), "master")
    assert all(fresh.get(f"person-{i}") == keys.get(f"person-{i}") for i in range(40))
