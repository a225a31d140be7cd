"""Routing's tests share one directory of province 52 and the shipped rule tables (both read-only)."""

from __future__ import annotations

import pytest
from casereg.directory.directory import Directory
from routing.domain.rules import RuleTables
from routing.rules.load import load_tables

from tests.routing import support


@pytest.fixture(scope="session")
def directory() -> Directory:
    return support.directory()


@pytest.fixture(scope="session")
def tables() -> RuleTables:
    return load_tables()
