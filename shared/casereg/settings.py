"""Settings shared by every process, read from ``CASEREG_*`` environment variables at start-up.

Each service subclasses :class:`ServiceSettings` with its own prefix (``CASEREG_INTAKE_`` ...). Nothing here is
instantiated at import: entry points call :func:`load` (or the class) when the process starts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Self, TypeVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Development-only secrets. Production mode refuses to start while any secret still has one of these values.
DEV_MASTER_KEY = "dev-only-master-key-change-me"
DEV_BLIND_INDEX_KEY = "dev-only-blind-index-key-change-me"
DEV_SEAL_KEY = "dev-only-seal-key-change-me"
DEV_DEFAULTS = {DEV_MASTER_KEY, DEV_BLIND_INDEX_KEY, DEV_SEAL_KEY, ""}

_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


class PlatformSettings(BaseSettings):
    """What every process of one deployment agrees on (prefix ``CASEREG_``)."""

    model_config = SettingsConfigDict(env_prefix="CASEREG_", extra="ignore", frozen=True)

    mode: Literal["development", "production"] = "development"
    province: str = Field(default="52", description="Province code; the second token of every log subject.")
    var_dir: Path = Field(default=Path("var"), description="Where the embedded default keeps its data.")
    nats_url: str = "nats://127.0.0.1:14222"
    stream: str = Field(default="REG", description="JetStream stream holding the registry's aggregates.")
    seals_stream: str = Field(
        default="REG_SEALS",
        description="JetStream stream holding the signed seals (subject seal.<province>), kept apart from the log.",
    )
    stream_replicas: int = Field(default=1, ge=1, le=5)
    keystore_url: str = Field(default="", description="Key store database; default var/keystore.db (SQLite).")
    master_key: SecretStr = SecretStr(DEV_MASTER_KEY)
    #: During a master-key rotation: the old master key(s), comma-separated, still accepted for unwrapping.
    previous_master_keys: SecretStr = SecretStr("")
    blind_index_key: SecretStr = SecretStr(DEV_BLIND_INDEX_KEY)
    #: Seed of the province's Ed25519 seal-signing key (any string; hashed to 32 bytes).
    seal_key: SecretStr = SecretStr(DEV_SEAL_KEY)

    @field_validator("province", "stream", "seals_stream")
    @classmethod
    def _subject_token(cls, value: str) -> str:
        if not _TOKEN.match(value):
            raise ValueError("must be letters, digits, '-' or '_' (it becomes a NATS subject token)")
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Self:
        if self.mode == "production":
            weak = [
                name
                for name in ("master_key", "blind_index_key", "seal_key")
                if getattr(self, name).get_secret_value() in DEV_DEFAULTS
            ]
            if weak:
                raise ValueError(f"production mode refuses default secrets: set CASEREG_{weak[0].upper()}")
        return self

    @property
    def is_production(self) -> bool:
        return self.mode == "production"


class ServiceSettings(PlatformSettings):
    """Settings of one service. Subclasses set ``env_prefix`` to ``CASEREG_<SERVICE>_``.

    The platform fields stay readable under the service prefix too, so one service can be pointed elsewhere;
    when unset they fall back to the ``CASEREG_`` values through :func:`load`.
    """

    service_name: str = ""
    database_url: str = ""
    nats_user: str = ""
    nats_password: SecretStr = SecretStr("")

    @model_validator(mode="after")
    def _refuse_default_service_secrets(self) -> Self:
        if self.is_production and not self.nats_password.get_secret_value():
            raise ValueError("production mode needs a NATS password for every service")
        return self

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to one SQLite file per service under ``var_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / f'{self.service_name}.db').resolve()}"


S = TypeVar("S", bound=PlatformSettings)


def load(cls: type[S], **overrides: object) -> S:
    """Build settings: platform-wide ``CASEREG_*`` values first, then the class's own prefix, then overrides."""
    if cls is PlatformSettings:
        return cls(**overrides)  # type: ignore[arg-type]
    base = PlatformSettings().model_dump()
    own = cls()
    explicit = own.model_fields_set
    merged = {**base, **{k: getattr(own, k) for k in explicit}, **overrides}
    return cls(**merged)
