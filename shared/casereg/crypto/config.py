"""The key store as a process opens it from its settings: the current master key and, during a rotation, the
previous ones (``CASEREG_MASTER_KEY``, ``CASEREG_PREVIOUS_MASTER_KEYS``)."""

from __future__ import annotations

import sqlalchemy as sa

from casereg.crypto.keystore import SqlKeyStore
from casereg.db import create_engine, keystore_url
from casereg.settings import PlatformSettings


def previous_master_keys(settings: PlatformSettings) -> tuple[str, ...]:
    """The old master keys still accepted for unwrapping (comma-separated in the setting)."""
    raw = settings.previous_master_keys.get_secret_value()
    return tuple(k.strip() for k in raw.split(",") if k.strip())


def open_keystore(settings: PlatformSettings, engine: sa.Engine | None = None) -> SqlKeyStore:
    """The deployment's key store (``CASEREG_KEYSTORE_URL``, default ``var/keystore.db``)."""
    return SqlKeyStore(
        engine if engine is not None else create_engine(keystore_url(settings)),
        settings.master_key.get_secret_value(),
        previous_master_keys(settings),
    )
