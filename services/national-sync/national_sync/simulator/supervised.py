"""The simulator as one more process of ``casereg up`` (development only; entry point ``casereg.processes``).

Started unless ``CASEREG_SIMULATOR=off``, production mode, or ``CASEREG_NATIONAL_SYNC_NATIONAL_URL`` pointing
somewhere else than the simulator's own address. Every supervised process then gets the simulator's URL as
``CASEREG_NATIONAL_SYNC_NATIONAL_URL``.
"""

from __future__ import annotations

from typing import Literal

from casereg.platform.processes import ExtraProcess
from casereg.settings import PlatformSettings
from pydantic_settings import BaseSettings, SettingsConfigDict

from national_sync.settings import NationalSyncSettings
from national_sync.simulator.app import PROCESS_NAME
from national_sync.simulator.settings import SimulatorSettings


class SimulatorSwitch(BaseSettings):
    """``CASEREG_SIMULATOR=on|off``."""

    model_config = SettingsConfigDict(env_prefix="CASEREG_", extra="ignore", frozen=True)

    simulator: Literal["on", "off"] = "on"


def process(platform: PlatformSettings) -> ExtraProcess | None:
    if platform.is_production or SimulatorSwitch().simulator == "off":
        return None
    simulator = SimulatorSettings()
    national = NationalSyncSettings()
    if "national_url" in national.model_fields_set and national.national_url.rstrip("/") != simulator.url:
        return None
    database = (
        simulator.database if "database" in simulator.model_fields_set else platform.var_dir / "national-simulator.db"
    )
    env = {"CASEREG_NATIONAL_SYNC_NATIONAL_URL": simulator.url}
    token = national.national_token.get_secret_value()
    if token and not simulator.token.get_secret_value():
        env["CASEREG_SIMULATOR_TOKEN"] = token  # the simulator checks the token the service sends
    return ExtraProcess(
        name=PROCESS_NAME,
        args=("-m", "national_sync.simulator", "--database", str(database.resolve())),
        health_url=f"{simulator.url}/v1/simulator/health",
        env=env,
    )
