"""The look-up API on small hand-made data."""

from __future__ import annotations

from datetime import date

import pytest
from casereg.directory import (
    Agency,
    Directory,
    InvalidDirectory,
    Level,
    NotFound,
    Period,
    RemoteDifficult,
    Succession,
    Transfer,
    Unit,
)

from tests.directory.conftest import AFTER, BEFORE, committee

OLD = date(2025, 6, 30)
NEW = date(2025, 7, 1)
REFORM = date(2025, 7, 1)


def successions() -> list[Succession]:
    return [
        Succession(Level.PROVINCE, "90", "90", REFORM, Transfer.WHOLE),
        Succession(Level.COMMUNE, "90001", "90001", REFORM, Transfer.WHOLE),
        Succession(Level.COMMUNE, "90002", "90001", REFORM, Transfer.WHOLE),
    ]


@pytest.fixture
def directory(small_units: list[Unit], small_agencies: list[Agency]) -> Directory:
    return Directory(small_units, small_agencies, successions())


def test_unit_by_code_at_a_date(directory: Directory) -> None:
    assert directory.unit("90001", OLD).name == "Xã Một"
    assert directory.unit("90001", NEW).name == "Xã Hợp Nhất"
    assert directory.unit("90001", date(1990, 1, 1)).name == "Xã Một"  # the old tree has an open start
    assert directory.find_unit("90002", NEW) is None
    assert [u.name for u in directory.versions("90001")] == ["Xã Một", "Xã Hợp Nhất"]


def test_unknown_or_expired_unit_is_not_found(directory: Directory) -> None:
    with pytest.raises(NotFound, match="no administrative unit has code 12345"):
        directory.unit("12345", NEW)
    with pytest.raises(NotFound, match=r"90002 is not in force on 2025-07-01 \(it was: Xã Hai … – 2025-06-30\)"):
        directory.unit("90002", NEW)


def test_path_up_to_the_province(directory: Directory) -> None:
    assert [u.code for u in directory.path("90002", OLD)] == ["90002", "900", "90"]
    assert [u.code for u in directory.path("90001", NEW)] == ["90001", "90"]
    assert directory.province_of("90002", OLD).name == "Tỉnh Cũ"
    assert [u.code for u in directory.children("900", OLD)] == ["90001", "90002"]
    assert [u.code for u in directory.units(NEW)] == ["90", "90001"]
    assert [u.code for u in directory.units(OLD, Level.DISTRICT)] == ["900"]


def test_agency_by_unit_and_level(directory: Directory) -> None:
    assert directory.agency("90002", Level.COMMUNE, OLD).id == "old/90002"
    assert directory.agency("90002", Level.DISTRICT, OLD).id == "old/900"
    assert directory.agency("90002", Level.PROVINCE, OLD).id == "old/90"
    assert directory.agency("90001", Level.PROVINCE, NEW).id == "new/90"
    with pytest.raises(NotFound, match="has no district level on 2025-07-01"):
        directory.agency("90001", Level.DISTRICT, NEW)


def test_supervisor_and_chain(directory: Directory) -> None:
    commune = directory.agency_by_id("old/90001")
    assert directory.supervisor(commune) == directory.agency_by_id("old/900")
    assert directory.supervisor("old/90") is None
    assert [a.id for a in directory.chain("old/90001")] == ["old/90001", "old/900", "old/90"]
    with pytest.raises(NotFound, match="no agency has id nope"):
        directory.agency_by_id("nope")


def test_missing_agency_is_not_found(small_units: list[Unit]) -> None:
    directory = Directory(small_units, [committee("new/90", "90", Level.PROVINCE, None, AFTER)])
    with pytest.raises(NotFound, match=r"no people_committee agency for Xã Hợp Nhất \(90001\) on 2025-07-01"):
        directory.agency("90001", Level.COMMUNE, NEW)


def test_successors_and_predecessors_follow_a_place_across_the_reform(directory: Directory) -> None:
    merged = directory.unit("90001", NEW)
    assert [(link.unit.name, link.transfer) for link in directory.predecessors(merged)] == [
        ("Xã Một", Transfer.WHOLE),
        ("Xã Hai", Transfer.WHOLE),
    ]
    assert [link.unit for link in directory.successors(directory.unit("90002", OLD))] == [merged]
    # A district has no rows of its own: it is followed through its communes.
    district = directory.unit("900", OLD)
    assert [(link.unit, link.transfer) for link in directory.successors(district)] == [(merged, Transfer.WHOLE)]
    assert directory.successors(merged) == []  # still in force
    assert directory.predecessors(directory.unit("90", OLD)) == []


def test_district_split_between_new_units_is_partial(small_units: list[Unit]) -> None:
    units = [*small_units, Unit("90004", Level.COMMUNE, "xã", "Xã Bốn", "90", AFTER)]
    rows = [*successions()[:2], Succession(Level.COMMUNE, "90002", "90004", REFORM, Transfer.WHOLE)]
    directory = Directory(units, (), rows)
    links = directory.successors(directory.unit("900", OLD))
    assert [(link.unit.code, link.transfer) for link in links] == [("90001", Transfer.PART), ("90004", Transfer.PART)]


def test_remote_difficult_is_effective_dated(small_units: list[Unit]) -> None:
    flags = [
        RemoteDifficult("90002", Period(date(2020, 1, 1), OLD), True, "Decision 123/QĐ-UBND"),
        RemoteDifficult("90001", Period(NEW, date(2025, 12, 31)), True),
        RemoteDifficult("90001", Period(date(2026, 1, 1), None), False, "no longer"),
    ]
    directory = Directory(small_units, (), (), flags)
    assert directory.is_remote_difficult("90002", OLD)
    assert not directory.is_remote_difficult("90002", date(2019, 12, 31))
    assert directory.is_remote_difficult("90001", date(2025, 12, 31))
    assert not directory.is_remote_difficult("90001", date(2026, 1, 1))
    assert directory.remote_difficult("90001", date(2026, 1, 1)) == flags[2]
    assert not directory.is_remote_difficult("90001", OLD)  # the old unit with that code has no row
    assert directory.remote_difficult("90", NEW) is None


def test_construction_refuses_inconsistent_records(small_units: list[Unit]) -> None:
    bad = committee("x", "90", Level.PROVINCE, "missing", AFTER)
    with pytest.raises(InvalidDirectory, match="unknown supervisor missing") as info:
        Directory(small_units, [bad])
    assert len(info.value.problems) == 1


def test_period_rules() -> None:
    assert Period(None, OLD).contains(date(1900, 1, 1))
    assert not Period(None, OLD).contains(NEW)
    assert Period(NEW, None).overlaps(Period(None, None))
    assert not BEFORE.overlaps(AFTER)
    assert Period(None, None).covers(BEFORE)
    assert not AFTER.covers(Period(None, date(2030, 1, 1)))
    with pytest.raises(ValueError, match="ends"):
        Period(NEW, OLD)
