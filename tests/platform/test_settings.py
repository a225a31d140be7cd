"""Settings: built at start-up from the environment, one prefix per service, no default secrets in production."""

from __future__ import annotations

import os

import pytest
from casereg.platform.embedded import EmbeddedConfigError, EmbeddedSettings, resolve
from casereg.settings import PlatformSettings, ServiceSettings, load
from casereg.telemetry import LoggingSettings
from escalation.settings import EscalationSettings
from intake.settings import IntakeSettings
from national_sync.settings import NationalSyncSettings
from pydantic import ValidationError
from routing.settings import RoutingSettings

SERVICE_SETTINGS: list[tuple[type[ServiceSettings], str, str]] = [
    (IntakeSettings, "CASEREG_INTAKE_", "intake"),
    (RoutingSettings, "CASEREG_ROUTING_", "routing"),
    (EscalationSettings, "CASEREG_ESCALATION_", "escalation"),
    (NationalSyncSettings, "CASEREG_NATIONAL_SYNC_", "national-sync"),
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CASEREG_* variable of the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith("CASEREG_"):
            monkeypatch.delenv(name)


def test_production_refuses_default_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEREG_MODE", "production")
    with pytest.raises(ValidationError, match="refuses default secrets"):
        PlatformSettings()


@pytest.mark.parametrize(("cls", "prefix", "name"), SERVICE_SETTINGS)
def test_every_service_refuses_default_secrets_in_production(
    monkeypatch: pytest.MonkeyPatch, cls: type[ServiceSettings], prefix: str, name: str
) -> None:
    monkeypatch.setenv("CASEREG_MODE", "production")
    with pytest.raises(ValidationError, match="refuses default secrets"):
        load(cls)
    monkeypatch.setenv("CASEREG_MASTER_KEY", "a-real-master-key")
    monkeypatch.setenv("CASEREG_BLIND_INDEX_KEY", "a-real-blind-index-key")
    monkeypatch.setenv("CASEREG_SEAL_KEY", "a-real-seal-key")
    with pytest.raises(ValidationError, match="NATS password"):
        load(cls)
    monkeypatch.setenv(f"{prefix}NATS_PASSWORD", "from-the-secret-store")
    monkeypatch.setenv("CASEREG_NATIONAL_SYNC_NATIONAL_TOKEN", "from-the-secret-store")  # national-sync's own
    settings = load(cls)
    assert settings.is_production
    assert settings.service_name == name
    assert settings.nats_password.get_secret_value() == "from-the-secret-store"


def test_development_runs_on_the_defaults() -> None:
    for cls, _, name in SERVICE_SETTINGS:
        settings = load(cls)
        assert not settings.is_production
        assert settings.service_name == name


@pytest.mark.parametrize(("cls", "prefix", "name"), SERVICE_SETTINGS)
def test_each_service_reads_its_own_prefix_over_the_platform_value(
    monkeypatch: pytest.MonkeyPatch, cls: type[ServiceSettings], prefix: str, name: str
) -> None:
    monkeypatch.setenv("CASEREG_PROVINCE", "07")
    monkeypatch.setenv("CASEREG_NATS_URL", "nats://127.0.0.1:1")
    monkeypatch.setenv(f"{prefix}NATS_URL", "nats://127.0.0.1:2")
    settings = load(cls)
    assert settings.province == "07"
    assert settings.nats_url == "nats://127.0.0.1:2"
    others = [c for c, _, _ in SERVICE_SETTINGS if c is not cls]
    assert all(load(c).nats_url == "nats://127.0.0.1:1" for c in others)


def test_secrets_are_not_shown_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEREG_INTAKE_NATS_PASSWORD", "hunter2-hunter2")
    assert "hunter2" not in repr(load(IntakeSettings))


def test_the_embedded_defaults_agree_and_avoid_a_system_nats() -> None:
    platform, embedded = resolve(PlatformSettings(), EmbeddedSettings())
    assert embedded.nats_port == 14222
    assert embedded.nats_monitor_port == 18222
    assert embedded.nats_sync_always
    assert platform.nats_url == "nats://127.0.0.1:14222"


def test_setting_only_the_port_moves_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEREG_EMBEDDED_NATS_PORT", "24222")
    platform, embedded = resolve(PlatformSettings(), EmbeddedSettings())
    assert platform.nats_url == "nats://127.0.0.1:24222"
    assert embedded.nats_port == 24222


def test_setting_only_the_url_moves_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEREG_NATS_URL", "nats://localhost:25222")
    platform, embedded = resolve(PlatformSettings(), EmbeddedSettings())
    assert embedded.nats_port == 25222
    assert platform.nats_url == "nats://localhost:25222"


def test_url_and_port_that_disagree_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEREG_NATS_URL", "nats://127.0.0.1:25222")
    monkeypatch.setenv("CASEREG_EMBEDDED_NATS_PORT", "24222")
    with pytest.raises(EmbeddedConfigError, match="disagree"):
        resolve(PlatformSettings(), EmbeddedSettings())


def test_a_remote_url_is_refused_for_the_embedded_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEREG_NATS_URL", "nats://nats.example.org:4222")
    with pytest.raises(EmbeddedConfigError, match="not on this machine"):
        resolve(PlatformSettings(), EmbeddedSettings())


def test_log_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LoggingSettings().level == "INFO"
    monkeypatch.setenv("CASEREG_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("CASEREG_LOG_FORMAT", "json")
    assert LoggingSettings() == LoggingSettings(level="DEBUG", format="json")
    monkeypatch.setenv("CASEREG_LOG_LEVEL", "LOUD")
    with pytest.raises(ValidationError):
        LoggingSettings()
