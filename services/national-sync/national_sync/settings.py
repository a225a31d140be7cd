"""Settings of the national-sync service (prefix ``CASEREG_NATIONAL_SYNC_``), built at start-up."""

from __future__ import annotations

from casereg.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class NationalSyncSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASEREG_NATIONAL_SYNC_", extra="ignore", frozen=True)

    service_name: str = "national-sync"
