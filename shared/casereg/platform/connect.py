"""Open a NATS connection as one of the deployment's users."""

from __future__ import annotations

import logging

import nats
from nats.aio.client import Client as NATS

from casereg.platform import credentials
from casereg.settings import PlatformSettings, ServiceSettings

log = logging.getLogger(__name__)


def password_for(settings: PlatformSettings, user: str) -> str:
    """A service's own ``*_NATS_PASSWORD`` setting wins; otherwise the deployment's credentials file."""
    if isinstance(settings, ServiceSettings) and settings.nats_password.get_secret_value():
        return settings.nats_password.get_secret_value()
    return credentials.load(settings.var_dir).password(user)


async def _log_error(exc: Exception) -> None:
    log.warning("nats error: %s", exc)


async def connect(settings: PlatformSettings, user: str, *, name: str | None = None) -> NATS:
    return await nats.connect(
        settings.nats_url,
        user=user,
        password=password_for(settings, user),
        name=name or f"casereg-{user}",
        error_cb=_log_error,
        max_reconnect_attempts=-1,
    )
