"""The Vietnamese working-day calendar: the facts DOMAIN.md §3 and the tests rely on, and local overrides."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import holidays
import pytest
from escalation.adapters.rule_files import RuleFileError, load_calendar
from escalation.domain.calendar import WorkingCalendar

from tests.escalation.support import calendar, d

# 2026 days off as the Government set them; checked against the `holidays` package directly (not through the
# code under test) so that a package upgrade that changes any of them fails here first.
DAYS_OFF_2026 = {
    "2026-01-01": "New Year's Day (Thursday)",
    "2026-02-16": "Lunar New Year's Eve (29 Tết, Monday)",
    "2026-02-17": "Lunar New Year (Tuesday)",
    "2026-02-18": "2nd day of Tết",
    "2026-02-19": "3rd day of Tết",
    "2026-02-20": "4th day of Tết (Friday); with the weekends: 14-22 Feb off",
    "2026-04-26": "Hung Kings' Commemoration Day (Sunday, 10th day of the 3rd lunar month)",
    "2026-04-27": "Hung Kings' day observed on Monday",
    "2026-04-30": "Reunification Day (Thursday)",
    "2026-05-01": "Labour Day (Friday)",
    "2026-08-31": "day off substituted from Saturday 22 August (DOMAIN §3)",
    "2026-09-01": "National Day, the day next to 2 September",
    "2026-09-02": "National Day (Wednesday)",
    "2026-11-24": "Vietnam Cultural Day, a holiday from 2026 (DOMAIN §3)",
}


def test_the_package_knows_the_2026_days_off() -> None:
    vn = holidays.country_holidays("VN", years=2026)
    weekdays_off = {day.isoformat() for day in vn if day.weekday() < 5 or day.isoformat() == "2026-04-26"}
    assert weekdays_off == set(DAYS_OFF_2026)
    assert date(2026, 8, 22) in vn.weekend_workdays  # the make-up working Saturday


@pytest.mark.parametrize("day", sorted(DAYS_OFF_2026))
def test_days_off_are_not_working_days(day: str) -> None:
    assert not calendar().is_working_day(d(day))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-08-22", True),  # Saturday made a working day for the 31 August day off
        ("2026-08-29", False),  # an ordinary Saturday
        ("2026-08-30", False),  # Sunday
        ("2026-08-28", True),  # Friday
        ("2026-09-03", True),  # Thursday after National Day
        ("2026-11-25", True),  # the day after Vietnam Cultural Day
        ("2026-02-23", True),  # Monday after Tết
        ("2025-04-26", True),  # 2025's make-up Saturday (for Friday 2 May 2025)
        ("2025-05-02", False),
    ],
)
def test_weekends_and_make_up_saturdays(day: str, working: bool) -> None:
    assert calendar().is_working_day(d(day)) is working


def test_next_working_day_skips_the_national_day_break() -> None:
    # Sat 29 Aug, Sun 30, Mon 31 (substituted), Tue 1 and Wed 2 September are off: Thursday 3 September.
    assert calendar().next_working_day(d("2026-08-28")) == d("2026-09-03")


def test_reasons_name_the_day() -> None:
    assert "substituted" in calendar().info(d("2026-08-31")).reason
    assert "make-up" in calendar().info(d("2026-08-22")).reason
    assert calendar().info(d("2026-08-29")).reason == "Saturday"


def test_local_days_off_and_working_days_win_over_the_package() -> None:
    local = load_calendar(local_days_off=[d("2026-07-07")], local_working_days=[d("2026-09-01")])
    assert not local.is_working_day(d("2026-07-07"))
    assert local.info(d("2026-07-07")).reason == "day off by configuration: local day off"
    assert local.is_working_day(d("2026-09-01"))


def test_a_day_both_off_and_working_is_refused() -> None:
    with pytest.raises(RuleFileError, match="2026-07-07"):
        load_calendar(local_days_off=[d("2026-07-07")], local_working_days=[d("2026-07-07")])
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar(days_off={d("2026-07-07"): "x"}, working_days={d("2026-07-07"): "y"})


def test_a_calendar_file_with_corrections(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(
        'format = 1\ndays_off = [{ date = 2027-04-30, note = "swap" }]\n'
        'working_days = [{ date = 2027-04-24, note = "make-up Saturday" }]\n'
    )
    corrected = load_calendar(path)
    assert corrected.is_working_day(d("2027-04-24"))
    assert corrected.info(d("2027-04-24")).reason == "working day by configuration: make-up Saturday"


def test_a_bad_calendar_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text("format = 1\ndays_off = [{ date = 2027-04-30 }]\n")
    with pytest.raises(RuleFileError, match=r"calendar\.toml"):
        load_calendar(path)
