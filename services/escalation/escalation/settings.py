"""Settings of the escalation service (prefix ``CASEREG_ESCALATION_``), built when the process starts."""

from __future__ import annotations

from casereg.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class EscalationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASEREG_ESCALATION_", extra="ignore", frozen=True)

    service_name: str = "escalation"
