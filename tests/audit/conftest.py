"""The log fixtures of tests/log (a provisioned stream per test on the module's nats-server), shared here."""

from __future__ import annotations

from tests.log.conftest import LogEnv, log_env

__all__ = ["LogEnv", "log_env"]
