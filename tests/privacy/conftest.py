"""Fixtures of the privacy tests: the log's per-test stream (``log_env``)."""

from __future__ import annotations

from tests.log.conftest import log_env

__all__ = ["log_env"]
