"""Consistency rules, one by one, on small hand-made records."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from casereg.directory import Agency, AgencyKind, Level, Period, RemoteDifficult, Succession, Transfer, Unit
from casereg.directory.validate import validate

from tests.directory.conftest import AFTER, BEFORE, committee, unit

REFORM = date(2025, 7, 1)


def messages(*args: object) -> list[str]:
    return [p.message for p in validate(*args)]  # type: ignore[arg-type]


def test_consistent_records_have_no_problem(small_units: list[Unit], small_agencies: list[Agency]) -> None:
    assert messages(small_units, small_agencies) == []


def test_duplicate_code(small_units: list[Unit]) -> None:
    assert messages([*small_units, small_units[2]]) == ["duplicate code 90001"]


def test_overlapping_unit_validity(small_units: list[Unit]) -> None:
    overlapping = unit("90002", Level.COMMUNE, "Xã Hai Mới", "900", Period(date(2025, 1, 1), date(2025, 6, 30)))
    assert messages([*small_units, overlapping]) == [
        "overlapping validity: code 90002 over 2025-01-01 – 2025-06-30 overlaps … – 2025-06-30"
    ]


def test_parent_must_be_in_force_over_the_childs_period(small_units: list[Unit]) -> None:
    orphan = unit("90003", Level.COMMUNE, "Xã Ba", "909", BEFORE)
    outlives = unit("90004", Level.COMMUNE, "Xã Bốn", "900", Period(None, date(2025, 12, 31)))
    wrong_level = unit("901", Level.DISTRICT, "Huyện Sai", "900", BEFORE)
    assert messages([*small_units, orphan, outlives, wrong_level]) == [
        "unit 90003: parent 909 is not a unit in force over … – 2025-06-30",
        "unit 90004: parent 900 is not a unit in force over … – 2025-12-31",
        "unit 901: parent 900 is not a unit in force over … – 2025-06-30",
    ]


def test_unknown_supervisor(small_units: list[Unit], small_agencies: list[Agency]) -> None:
    stray = committee("new/90001", "90001", Level.COMMUNE, "new/999", AFTER)
    assert messages(small_units, [*small_agencies[:-1], stray]) == ["agency new/90001: unknown supervisor new/999"]


def test_duplicate_agency_id(small_units: list[Unit], small_agencies: list[Agency]) -> None:
    again = replace(small_agencies[0], name="again")
    problems = messages(small_units, [*small_agencies, again])
    assert "duplicate agency id old/90" in problems


def test_two_committees_of_one_unit_overlap(small_units: list[Unit], small_agencies: list[Agency]) -> None:
    second = committee("new/90-bis", "90", Level.PROVINCE, None, Period(date(2026, 1, 1), None))
    assert messages(small_units, [*small_agencies, second]) == [
        "overlapping validity: people_committee of unit 90 over 2026-01-01 – … overlaps 2025-07-01 – …"
    ]


def test_many_departments_of_one_unit_are_fine(small_units: list[Unit], small_agencies: list[Agency]) -> None:
    departments = [
        Agency(f"new/90/so-{i}", AgencyKind.DEPARTMENT, f"Sở {i}", "90", Level.PROVINCE, "new/90", AFTER)
        for i in range(3)
    ]
    assert messages(small_units, [*small_agencies, *departments]) == []


def test_agency_outside_its_unit_or_supervisor(small_units: list[Unit], small_agencies: list[Agency]) -> None:
    too_long = committee("old/90002-long", "90002", Level.COMMUNE, "old/900", Period(None, date(2025, 7, 31)))
    wrong_level = Agency("new/90-x", AgencyKind.INSPECTORATE, "Thanh tra", "90", Level.COMMUNE, "new/90", AFTER)
    problems = messages(small_units, [*small_agencies, too_long])
    assert "agency old/90002-long: unit 90002 is not a commune in force over … – 2025-07-31" in problems
    assert (
        "agency old/90002-long over … – 2025-07-31: supervisor old/900 is in force only over … – 2025-06-30" in problems
    )
    assert messages(small_units, [*small_agencies, wrong_level]) == [
        "agency new/90-x: unit 90 is not a commune in force over 2025-07-01 – …"
    ]


def test_supervisor_loops(small_units: list[Unit]) -> None:
    a = committee("a", "90", Level.PROVINCE, "b", AFTER)
    b = Agency("b", AgencyKind.CHAIRMAN, "Chủ tịch", "90", Level.PROVINCE, "a", AFTER)
    itself = Agency("c", AgencyKind.INSPECTORATE, "Thanh tra", "90", Level.PROVINCE, "c", AFTER)
    problems = messages(small_units, [a, b, itself])
    assert "agency a: the chain of supervisors loops" in problems
    assert "agency c supervises itself" in problems


def test_successions_name_units_either_side_of_the_date(small_units: list[Unit]) -> None:
    good = Succession(Level.COMMUNE, "90002", "90001", REFORM, Transfer.WHOLE)
    unknown_old = Succession(Level.COMMUNE, "90009", "90001", REFORM, Transfer.PART)
    unknown_new = Succession(Level.COMMUNE, "90001", "90002", REFORM, Transfer.PART)
    assert messages(small_units, [], [good, good, unknown_old, unknown_new]) == [
        "duplicate succession 90002 -> 90001",
        "succession: old commune 90009 is not in force on 2025-06-30",
        "succession: new commune 90002 is not in force on 2025-07-01",
    ]


def test_remote_difficult_rows(small_units: list[Unit]) -> None:
    ok = RemoteDifficult("90001", Period(date(2024, 1, 1), date(2025, 6, 30)), True)
    overlapping = RemoteDifficult("90001", Period(date(2025, 1, 1), date(2025, 3, 1)), False)
    across_the_reform = RemoteDifficult("90001", Period(date(2025, 6, 1), date(2025, 7, 31)), True)
    assert messages(small_units, [], [], [ok]) == []
    assert messages(small_units, [], [], [ok, overlapping]) == [
        "overlapping validity: remote_difficult row for unit 90001 over 2025-01-01 – 2025-03-01 overlaps "
        "2024-01-01 – 2025-06-30"
    ]
    assert messages(small_units, [], [], [across_the_reform]) == [
        "remote_difficult: unit 90001 is not one unit in force over 2025-06-01 – 2025-07-31"
    ]
