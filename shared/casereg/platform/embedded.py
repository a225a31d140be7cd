"""Settings of the embedded default: the ``nats-server`` that ``casereg up`` runs on this machine.

Clients find NATS through ``CASEREG_NATS_URL``; the embedded server listens on ``CASEREG_EMBEDDED_NATS_PORT``.
Set either one and the other follows; set both and they must agree.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from casereg.platform.credentials import NatsCredentials
from casereg.platform.nats_embedded import EmbeddedNats, embedded_for
from casereg.settings import PlatformSettings

EMBEDDED_HOST = "127.0.0.1"
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class EmbeddedSettings(BaseSettings):
    """Prefix ``CASEREG_EMBEDDED_``. The defaults stay clear of a system NATS on 4222/8222."""

    model_config = SettingsConfigDict(env_prefix="CASEREG_EMBEDDED_", extra="ignore", frozen=True)

    nats_port: int = Field(default=14222, ge=1, le=65535, description="Client port of the embedded server.")
    nats_monitor_port: int = Field(default=18222, ge=1, le=65535, description="HTTP monitoring port.")
    nats_sync_always: bool = Field(default=True, description="fsync every write before acknowledging it.")


class EmbeddedConfigError(ValueError):
    """CASEREG_NATS_URL and the embedded server's port disagree."""


def resolve(platform: PlatformSettings, embedded: EmbeddedSettings) -> tuple[PlatformSettings, EmbeddedSettings]:
    """Make the clients' URL and the embedded server's port agree, whichever of the two the user set."""
    url_set = "nats_url" in platform.model_fields_set
    port_set = "nats_port" in embedded.model_fields_set
    if port_set and not url_set:
        url = f"nats://{EMBEDDED_HOST}:{embedded.nats_port}"
        return platform.model_copy(update={"nats_url": url}), embedded
    parts = urlsplit(platform.nats_url)
    if parts.hostname not in _LOCAL_HOSTS:
        raise EmbeddedConfigError(
            f"CASEREG_NATS_URL={platform.nats_url} is not on this machine; `casereg up` runs an embedded "
            "server on 127.0.0.1 (unset CASEREG_NATS_URL or point it there)"
        )
    url_port = parts.port or 4222
    if url_port == embedded.nats_port:
        return platform, embedded
    if url_set and not port_set:
        return platform, embedded.model_copy(update={"nats_port": url_port})
    raise EmbeddedConfigError(
        f"CASEREG_NATS_URL={platform.nats_url} and CASEREG_EMBEDDED_NATS_PORT={embedded.nats_port} disagree"
    )


def embedded_server(
    platform: PlatformSettings, embedded: EmbeddedSettings, credentials: NatsCredentials
) -> EmbeddedNats:
    """The embedded server laid out under ``<var_dir>/nats/`` (config, JetStream store, log)."""
    return embedded_for(
        platform.var_dir / "nats",
        credentials,
        province=platform.province,
        port=embedded.nats_port,
        monitor_port=embedded.nats_monitor_port,
        sync_always=embedded.nats_sync_always,
        host=EMBEDDED_HOST,
    )
