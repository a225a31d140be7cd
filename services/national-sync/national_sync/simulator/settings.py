"""Settings of the simulator (prefix ``CASEREG_SIMULATOR_``) and its fault model."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Faults(BaseModel):
    """What the simulator does wrong, on purpose. Rates are probabilities per record/reconcile request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    error_rate: float = Field(default=0.0, ge=0, le=1, description="Answer 500 without storing.")
    latency_ms: int = Field(default=0, ge=0, le=600_000, description="Delay before every answer.")
    timeout_rate: float = Field(default=0.0, ge=0, le=1, description="Hang for timeout_ms, store nothing.")
    timeout_ms: int = Field(default=30_000, ge=0, le=600_000, description="How long a simulated timeout hangs.")
    duplicate_ack_rate: float = Field(default=0.0, ge=0, le=1, description="Store, then answer 500.")
    outage: bool = Field(default=False, description="Answer 503 to every record and reconciliation request.")


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASEREG_SIMULATOR_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Where the simulator listens.")
    port: int = Field(default=18090, ge=0, le=65535, description="Its port.")
    database: Path = Field(default=Path("var/national-simulator.db"), description="SQLite file (kept across runs).")
    token: SecretStr = Field(default=SecretStr(""), description="Bearer token required when set.")
    seed: int = Field(default=0, description="Seed of the fault RNG (the same seed, the same fault pattern).")
    error_rate: float = Field(default=0.0, ge=0, le=1)
    latency_ms: int = Field(default=0, ge=0)
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    timeout_ms: int = Field(default=30_000, ge=0)
    duplicate_ack_rate: float = Field(default=0.0, ge=0, le=1)
    outage: bool = False

    def faults(self) -> Faults:
        return Faults(**self.model_dump(include=set(Faults.model_fields)))

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"
