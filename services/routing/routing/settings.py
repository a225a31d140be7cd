"""Settings of the routing service (prefix ``CASEREG_ROUTING_``), built when the process starts."""

from __future__ import annotations

from pathlib import Path

from casereg.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASEREG_ROUTING_", extra="ignore", frozen=True)

    service_name: str = "routing"
    rules_dir: Path | None = Field(
        default=None,
        description="Folder holding handling.toml and competence.toml; default: the tables shipped with routing.",
    )
    auto_confirm_agencies: list[str] = Field(
        default=[],
        description=(
            "Directory ids of the agencies whose proposals routing confirms itself (forward, guide, return, archive,"
            " transfer), as a JSON list; empty: an officer confirms every proposal."
        ),
    )
