"""Data keys per person or per case, wrapped by the master key, in SQL outside the log.

Destroying a data key erases everything encrypted under it without touching the log (crypto-shredding).
The table is authoritative: a rebuild never drops it.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
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
    info={"kind": "authoritative"},
)


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


class SqlKeyStore:
    def __init__(self, engine: sa.Engine, master_secret: str) -> None:
        self._engine = engine
        self._kek = AESGCM(derive_key(master_secret, "casereg key-encryption key"))
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

    def _unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        return self._kek.decrypt(wrapped[:12], wrapped[12:], key_id.encode())

    def get_or_create(self, key_id: str) -> bytes:
        if key_id in self._cache:
            return self._cache[key_id]
        with self._engine.begin() as conn:
            row = conn.execute(sa.select(data_keys).where(data_keys.c.key_id == key_id)).first()
            if row is None:
                key = AESGCM.generate_key(bit_length=256)
                conn.execute(
                    data_keys.insert().values(
                        key_id=key_id, wrapped=self._wrap(key_id, key), created_at=datetime.now(UTC)
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
                    [{"key_id": k, "wrapped": self._wrap(k, key), "created_at": now} for k, key in fresh.items()],
                )
        self._cache.update(fresh)
        for row in rows:
            if row.wrapped is not None:
                self._cache[row.key_id] = self._unwrap(row.key_id, row.wrapped)

    def get(self, key_id: str) -> bytes:
        if key_id in self._cache:
            return self._cache[key_id]
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(data_keys).where(data_keys.c.key_id == key_id)).first()
        if row is None:
            raise KeyError(key_id)
        if row.wrapped is None:
            raise KeyDestroyed(key_id)
        key = self._unwrap(key_id, row.wrapped)
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
