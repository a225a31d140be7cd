"""Data keys per person or per case, wrapped by the master key, in SQL outside the log.

Destroying a data key erases everything encrypted under it without touching the log (crypto-shredding).
The table is authoritative: a rebuild never drops it.

Each row names the key-encryption key that wraps it (``kek_id``, a fingerprint of the master key it was derived
from; rows written before rotation existed have none and are tried with every configured key). A store knows its
current master key and, during a rotation, the previous ones: it wraps under the current one and unwraps under
whichever a row names, so old and new rows coexist until ``casereg keys rotate`` has re-wrapped them all.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from casereg.crypto.keys import derive_key

metadata = sa.MetaData()
data_keys = sa.Table(
    "data_keys",
    metadata,
    sa.Column("key_id", sa.String(128), primary_key=True),
    sa.Column("wrapped", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("kek_id", sa.String(32), nullable=True),
    info={"kind": "authoritative"},
)
KEK_PURPOSE = "casereg key-encryption key"


def kek_id(master_secret: str) -> str:
    """A master key's public fingerprint: names the key-encryption key derived from it (reveals nothing)."""
    return hmac.new(derive_key(master_secret, "casereg key-encryption key id"), b"kek", hashlib.sha256).hexdigest()[:16]


class WrongMasterKey(InvalidTag):
    """A data key is wrapped under a master key this process was not given."""


@dataclass(frozen=True)
class RotationProgress:
    """Where ``rotate`` stands: rows re-wrapped so far, and how many remain under another key."""

    rewrapped: int
    remaining: int


class KeyDestroyed(LookupError):
    """The data key was destroyed: the data under it is erased for good."""


class DataKeys(Protocol):
    """What encrypting and decrypting a field needs: the key by id."""

    def get_or_create(self, key_id: str) -> bytes: ...

    def get(self, key_id: str) -> bytes:
        """The data key; raises :class:`KeyDestroyed` or :class:`KeyError`."""
        ...


class KeyStore(DataKeys, Protocol):
    """The key store: data keys per person or case, created durably before use, destroyable (crypto-shredding)."""

    def prepare(self, key_ids: list[str]) -> None:
        """Make sure these keys exist, creating the missing ones in one transaction (one commit, not one each)."""
        ...

    async def prepare_async(self, key_ids: list[str]) -> None:
        """The same from async code, sharing commits with concurrent callers."""
        ...

    def destroy(self, key_id: str) -> None: ...

    def uncached(self) -> KeyStore:
        """The same store without this instance's memory of keys: sees a key destroyed by another process."""
        ...

    def is_destroyed(self, key_id: str) -> bool:
        """Whether the key was destroyed (read from the store, not from memory)."""
        ...


class SqlKeyStore:
    """``master_secret`` wraps new keys; ``previous`` master secrets still unwrap keys during a rotation."""

    def __init__(self, engine: sa.Engine, master_secret: str, previous: Sequence[str] = ()) -> None:
        self._engine = engine
        self._master = master_secret
        self._previous = tuple(previous)
        self._kek_id = kek_id(master_secret)
        self._keks = {kek_id(s): AESGCM(derive_key(s, KEK_PURPOSE)) for s in (*self._previous, master_secret)}
        self._kek = self._keks[self._kek_id]
        self._cache: dict[str, bytes] = {}
        self._waiting: list[tuple[list[str], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def prepare_async(self, key_ids: list[str]) -> None:
        """:meth:`prepare` with group commit: concurrent callers share one transaction (one fsync) per round.

        A new key must be durable before anything encrypted under it is published, so each caller waits for
        its round's commit; while one round commits, the next one gathers.
        """
        missing = [k for k in key_ids if k not in self._cache]
        if not missing:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((missing, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await asyncio.to_thread(self.prepare, [k for ids, _ in batch for k in ids])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    def create_tables(self) -> None:
        metadata.create_all(self._engine)

    def _wrap(self, key_id: str, key: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._kek.encrypt(nonce, key, key_id.encode())

    def _unwrap(self, key_id: str, wrapped: bytes, wrapped_by: str | None) -> bytes:
        if wrapped_by is not None:
            kek = self._keks.get(wrapped_by)
            if kek is None:
                raise WrongMasterKey(
                    f"data key {key_id} is wrapped under master key {wrapped_by}, which this process was not given "
                    "(during a rotation set CASEREG_PREVIOUS_MASTER_KEYS to the old master key)"
                )
            return kek.decrypt(wrapped[:12], wrapped[12:], key_id.encode())
        # Written before rows named their key-encryption key: the current key first, then the previous ones.
        candidates = [self._kek, *(k for i, k in self._keks.items() if i != self._kek_id)]
        for kek in candidates:
            try:
                return kek.decrypt(wrapped[:12], wrapped[12:], key_id.encode())
            except InvalidTag:
                continue
        raise WrongMasterKey(f"data key {key_id} opens under none of the configured master keys")

    def uncached(self) -> SqlKeyStore:
        return SqlKeyStore(self._engine, self._master, self._previous)

    def get_or_create(self, key_id: str) -> bytes:
        if key_id in self._cache:
            return self._cache[key_id]
        with self._engine.begin() as conn:
            row = conn.execute(sa.select(data_keys).where(data_keys.c.key_id == key_id)).first()
            if row is None:
                key = AESGCM.generate_key(bit_length=256)
                conn.execute(
                    data_keys.insert().values(
                        key_id=key_id,
                        wrapped=self._wrap(key_id, key),
                        kek_id=self._kek_id,
                        created_at=datetime.now(UTC),
                    )
                )
                self._cache[key_id] = key
                return key
        return self.get(key_id)

    def prepare(self, key_ids: list[str]) -> None:
        wanted = [k for k in dict.fromkeys(key_ids) if k not in self._cache]
        if not wanted:
            return
        with self._engine.begin() as conn:
            rows = conn.execute(sa.select(data_keys).where(data_keys.c.key_id.in_(wanted))).all()
            existing = {row.key_id for row in rows}
            now = datetime.now(UTC)
            fresh = {k: AESGCM.generate_key(bit_length=256) for k in wanted if k not in existing}
            if fresh:
                conn.execute(
                    data_keys.insert(),
                    [
                        {"key_id": k, "wrapped": self._wrap(k, key), "kek_id": self._kek_id, "created_at": now}
                        for k, key in fresh.items()
                    ],
                )
        self._cache.update(fresh)
        for row in rows:
            if row.wrapped is not None:
                self._cache[row.key_id] = self._unwrap(row.key_id, row.wrapped, row.kek_id)

    def get(self, key_id: str) -> bytes:
        if key_id in self._cache:
            return self._cache[key_id]
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(data_keys).where(data_keys.c.key_id == key_id)).first()
        if row is None:
            raise KeyError(key_id)
        if row.wrapped is None:
            raise KeyDestroyed(key_id)
        key = self._unwrap(key_id, row.wrapped, row.kek_id)
        self._cache[key_id] = key
        return key

    def destroy(self, key_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                data_keys.update()
                .where(data_keys.c.key_id == key_id)
                .values(wrapped=None, destroyed_at=datetime.now(UTC))
            )
        self._cache.pop(key_id, None)

    # --- erasure checks and master-key rotation ---------------------------------------------------------------

    def is_destroyed(self, key_id: str) -> bool:
        """Whether the key was destroyed, read from the table (not from this instance's memory)."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(data_keys.c.wrapped).where(data_keys.c.key_id == key_id)).first()
        return row is not None and row.wrapped is None

    def count_to_rotate(self) -> int:
        """Live keys not (yet) wrapped under the current master key."""
        with self._engine.connect() as conn:
            count = sa.select(sa.func.count()).select_from(self._not_current().subquery())
            return int(conn.execute(count).scalar_one())

    def _not_current(self) -> sa.Select[tuple[str, bytes, str | None]]:
        c = data_keys.c
        stale = sa.or_(c.kek_id.is_(None), c.kek_id != self._kek_id)
        return sa.select(c.key_id, c.wrapped, c.kek_id).where(c.wrapped.is_not(None), stale)

    def rotate(self, batch: int = 500, progress: Callable[[RotationProgress], None] | None = None) -> int:
        """Re-wrap every live key under the current master key, ``batch`` rows per transaction.

        Crash-safe and re-runnable: each row changes in one update guarded by the value it had (a key destroyed
        or rotated meanwhile is left alone), and a row is readable before and after. The log is never touched.
        Returns how many rows were re-wrapped.
        """
        done = 0
        skipped: set[str] = set()
        c = data_keys.c
        while True:
            with self._engine.begin() as conn:
                query = self._not_current().order_by(c.key_id)
                if skipped:
                    query = query.where(c.key_id.not_in(sorted(skipped)))
                rows = conn.execute(query.limit(batch)).all()
                if not rows:
                    return done
                for row in rows:
                    key = self._unwrap(row.key_id, row.wrapped, row.kek_id)
                    guard = c.kek_id.is_(None) if row.kek_id is None else c.kek_id == row.kek_id
                    changed = conn.execute(
                        data_keys.update()
                        .where(c.key_id == row.key_id, c.wrapped == row.wrapped, guard)
                        .values(wrapped=self._wrap(row.key_id, key), kek_id=self._kek_id)
                    ).rowcount
                    if changed:
                        done += 1
                    else:
                        skipped.add(row.key_id)
            if progress is not None:
                progress(RotationProgress(done, self.count_to_rotate()))
