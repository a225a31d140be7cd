"""Fixtures of the directory tests: the shipped directory, loaded once, and a small hand-made one."""

from __future__ import annotations

from datetime import date

import pytest
from casereg.directory import Agency, AgencyKind, Directory, DirectoryFiles, Level, Period, Unit, load

BEFORE = Period(None, date(2025, 6, 30))
AFTER = Period(date(2025, 7, 1), None)


@pytest.fixture(scope="session")
def shipped() -> Directory:
    """The shipped units, transition table and Gia Lai's agencies."""
    return load(DirectoryFiles.shipped("52"))


def unit(code: str, level: Level, name: str, parent: str | None, period: Period, type_: str = "") -> Unit:
    default = {Level.PROVINCE: "tỉnh", Level.DISTRICT: "huyện", Level.COMMUNE: "xã"}[level]
    return Unit(code, level, type_ or default, name, parent, period)


def committee(agency_id: str, code: str, level: Level, supervisor: str | None, period: Period) -> Agency:
    return Agency(agency_id, AgencyKind.PEOPLE_COMMITTEE, f"UBND {code}", code, level, supervisor, period)


@pytest.fixture
def small_units() -> list[Unit]:
    """Province 90 with district 900 (communes 90001, 90002) before; province 90 with commune 90001 after."""
    return [
        unit("90", Level.PROVINCE, "Tỉnh Cũ", None, BEFORE),
        unit("900", Level.DISTRICT, "Huyện Một", "90", BEFORE),
        unit("90001", Level.COMMUNE, "Xã Một", "900", BEFORE),
        unit("90002", Level.COMMUNE, "Xã Hai", "900", BEFORE),
        unit("90", Level.PROVINCE, "Tỉnh Mới", None, AFTER),
        unit("90001", Level.COMMUNE, "Xã Hợp Nhất", "90", AFTER),
    ]


@pytest.fixture
def small_agencies() -> list[Agency]:
    return [
        committee("old/90", "90", Level.PROVINCE, None, BEFORE),
        committee("old/900", "900", Level.DISTRICT, "old/90", BEFORE),
        committee("old/90001", "90001", Level.COMMUNE, "old/900", BEFORE),
        committee("old/90002", "90002", Level.COMMUNE, "old/900", BEFORE),
        committee("new/90", "90", Level.PROVINCE, None, AFTER),
        committee("new/90001", "90001", Level.COMMUNE, "new/90", AFTER),
    ]
