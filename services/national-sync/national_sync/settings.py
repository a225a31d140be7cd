"""Settings of the national-sync service (prefix ``CASEREG_NATIONAL_SYNC_``), built at start-up."""

from __future__ import annotations

from typing import Self

from casereg.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

#: Where ``casereg up`` runs the national-database simulator by default (development only).
DEFAULT_NATIONAL_URL = "http://127.0.0.1:18090"


class NationalSyncSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASEREG_NATIONAL_SYNC_", extra="ignore", frozen=True)

    service_name: str = "national-sync"

    # --- the HTTP push adapter (national_sync.adapter) ------------------------------------------------------
    national_url: str = Field(
        default=DEFAULT_NATIONAL_URL, description="Base URL of the national database's push API (or the simulator)."
    )
    national_token: SecretStr = Field(
        default=SecretStr(""), description="Bearer token sent to the national database; production refuses empty."
    )
    push_timeout: float = Field(default=10.0, gt=0, description="Seconds one HTTP request may take.")
    retry_attempts: int = Field(default=6, ge=1, description="Tries per push (the first one included).")
    retry_initial: float = Field(default=0.5, ge=0, description="First retry delay in seconds (then doubling).")
    retry_max: float = Field(default=30.0, ge=0, description="Longest retry delay in seconds.")
    breaker_failures: int = Field(default=5, ge=1, description="Consecutive failed pushes that open the breaker.")
    breaker_recovery: float = Field(default=30.0, gt=0, description="Seconds the breaker stays open.")

    # --- the pushers (national_sync.pusher) ----------------------------------------------------------------
    pushers: int = Field(default=8, ge=1, le=256, description="Concurrent push workers (one record each at a time).")
    poll_interval: float = Field(default=0.5, gt=0, description="Seconds between looks at the ledger when idle.")
    backoff_initial: float = Field(
        default=1.0, gt=0, description="Seconds before a record whose push failed is tried again (then doubling)."
    )
    backoff_max: float = Field(default=60.0, gt=0, description="Longest wait before a failed record is tried again.")

    @model_validator(mode="after")
    def _refuse_empty_national_token(self) -> Self:
        if self.is_production and not self.national_token.get_secret_value():
            raise ValueError("production mode needs CASEREG_NATIONAL_SYNC_NATIONAL_TOKEN")
        return self
