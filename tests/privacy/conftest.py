"""Fixtures of the privacy tests: the log's per-test stream (``log_env``) and intake's (``intake_env``)."""

from __future__ import annotations

from tests.intake.conftest import intake_env
from tests.log.conftest import log_env

__all__ = ["intake_env", "log_env"]
