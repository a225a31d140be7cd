"""Settings of the intake service (prefix ``CASEREG_INTAKE_``), built when the process starts."""

from __future__ import annotations

from casereg.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASEREG_INTAKE_", extra="ignore", frozen=True)

    service_name: str = "intake"
    http_host: str = Field(default="127.0.0.1", description="Where the HTTP API listens")
    http_port: int = Field(default=18080, ge=0, le=65535, description="HTTP API port (0: any free port)")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="Largest accepted request body")
    visible_within: float = Field(default=2.0, ge=0, le=30, description="Seconds a POST waits for the registry")
