"""Settings of the intake service (prefix ``CASEREG_INTAKE_``), built when the process starts."""

from __future__ import annotations

from casereg.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASEREG_INTAKE_", extra="ignore", frozen=True)

    service_name: str = "intake"
