"""When `casereg up` runs the simulator (development, not switched off, the sync not pointed elsewhere).

`tests/platform/test_e2e.py` starts it for real under `casereg up` and asks it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from casereg.platform.health import HealthUnavailable, request_http_health
from casereg.platform.processes import extra_processes
from casereg.settings import PlatformSettings
from national_sync.simulator.supervised import process

from tests.national_sync.simulator_support import simulator_process


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CASEREG_"):
            monkeypatch.delenv(name)


def test_development_runs_it_and_points_every_process_at_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEREG_SIMULATOR_PORT", "18999")
    found = process(PlatformSettings(var_dir=tmp_path))
    assert found is not None
    assert found.name == "national-sim"
    assert found.args == ("-m", "national_sync.simulator", "--database", str(tmp_path / "national-simulator.db"))
    assert found.health_url == "http://127.0.0.1:18999/v1/simulator/health"
    assert found.env == {"CASEREG_NATIONAL_SYNC_NATIONAL_URL": "http://127.0.0.1:18999"}
    assert [p.name for p in extra_processes(PlatformSettings(var_dir=tmp_path))] == ["national-sim"]


def test_the_sync_token_is_the_one_the_simulator_asks_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEREG_NATIONAL_SYNC_NATIONAL_TOKEN", "dev-token")
    found = process(PlatformSettings(var_dir=tmp_path))
    assert found is not None and found.env["CASEREG_SIMULATOR_TOKEN"] == "dev-token"


@pytest.mark.parametrize(
    "env",
    [
        {"CASEREG_SIMULATOR": "off"},
        {"CASEREG_NATIONAL_SYNC_NATIONAL_URL": "https://national.example.gov.vn"},
    ],
)
def test_not_run_when_switched_off_or_pointed_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert process(PlatformSettings(var_dir=tmp_path)) is None


def test_pointing_the_sync_at_the_simulator_itself_still_runs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASEREG_NATIONAL_SYNC_NATIONAL_URL", "http://127.0.0.1:18090/")
    assert process(PlatformSettings(var_dir=tmp_path)) is not None


def test_production_never_runs_it(tmp_path: Path) -> None:
    settings = PlatformSettings(var_dir=tmp_path, mode="production", master_key="m", blind_index_key="b", seal_key="s")
    assert process(settings) is None


async def test_status_reads_an_extra_process_health_over_http(tmp_path: Path) -> None:
    with simulator_process(tmp_path) as sim:
        report = await request_http_health(f"{sim.url}/v1/simulator/health")
        assert (report.service, report.pid, report.healthy) == ("national-sim", sim.proc and sim.proc.pid, True)
    with pytest.raises(HealthUnavailable, match="unreachable"):
        await request_http_health(f"{sim.url}/v1/simulator/health", 1.0)
