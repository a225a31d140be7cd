"""Settings of the escalation service (prefix ``CASEREG_ESCALATION_``), built when the process starts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from casereg.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class EscalationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASEREG_ESCALATION_", extra="ignore", frozen=True)

    service_name: str = "escalation"
    rules_file: Path | None = Field(default=None, description="Rule table (TOML); default: the one shipped")
    calendar_file: Path | None = Field(default=None, description="Calendar corrections (TOML); default: shipped")
    local_days_off: tuple[date, ...] = Field(default=(), description="The province's own days off (JSON list)")
    local_working_days: tuple[date, ...] = Field(default=(), description="The province's extra working days")
    remote_units: frozenset[str] = Field(
        default=frozenset(),
        description="Unit codes in remote, hard-to-reach areas (vùng sâu, vùng xa): longer periods (LKN Arts. "
        "28, 33, 37). No official list is known (UNCONFIRMED): the province configures it.",
    )
    warning_leads: tuple[int, ...] = Field(
        default=(5, 1),
        description="DeadlineApproaching when this many working days (or fewer) are left to the last day (JSON list)",
    )
    timer_interval_seconds: float = Field(default=60.0, gt=0, description="How often the timer loop scans")
    prolonged_after: int = Field(
        default=3,
        ge=1,
        description="A settled case is flagged prolonged when this many later cases are proposed as its repeats",
    )
