"""Fixtures of tests/log (a provisioned stream per test) and tests/intake (intake's handlers), shared here."""

from __future__ import annotations

from tests.intake.conftest import IntakeEnv, intake_env
from tests.log.conftest import LogEnv, log_env

__all__ = ["IntakeEnv", "LogEnv", "intake_env", "log_env"]
