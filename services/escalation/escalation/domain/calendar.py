"""Which days are working days in Vietnam (DOMAIN §3 "Counting days").

Weekends (Saturday, Sunday) and public holidays come from the ``holidays`` package, country "VN": the Labour Code
holidays, their observed days, Lunar New Year's extra days, the Government's substituted days off (e.g. Monday
2026-08-31 instead of Saturday 2026-08-22) and the make-up working Saturdays those swaps create (2026-08-22 is a
working day). What the package does not know yet (a swap decided after its release, a provincial day off) is
configuration: ``days_off`` and ``working_days`` given to :class:`WorkingCalendar`, which win over the package.

No I/O: the package computes its data in memory; years are built on first use and cached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays

WEEKEND = frozenset({5, 6})  # Saturday, Sunday


@dataclass(frozen=True)
class DayInfo:
    """Why a day is (not) a working day, for messages and documentation."""

    day: date
    working: bool
    reason: str


@dataclass(frozen=True)
class _Year:
    days_off: Mapping[date, str]
    working_weekend_days: frozenset[date]


@dataclass
class WorkingCalendar:
    """The Vietnamese working-day calendar with local overrides.

    ``days_off`` (date -> note) are extra non-working days (a province's own day off, a national swap the package
    lacks); ``working_days`` (date -> note) are extra working days (a make-up Saturday the package lacks). A date
    in both is a configuration error.
    """

    days_off: Mapping[date, str] = field(default_factory=dict)
    working_days: Mapping[date, str] = field(default_factory=dict)
    country: str = "VN"
    _years: dict[int, _Year] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        both = sorted(set(self.days_off) & set(self.working_days))
        if both:
            raise ValueError(f"{both[0].isoformat()} is configured both as a day off and as a working day")

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            # A swap may cross the new year (a Saturday in December worked for a day off on 2 January): build the
            # neighbouring years too and keep what falls in this one.
            data = holidays.country_holidays(self.country, years=range(year - 1, year + 2), language="en_US")
            days_off = {d: str(name) for d, name in data.items() if d.year == year}
            working = frozenset(d for d in data.weekend_workdays if d.year == year)
            cached = _Year(days_off=days_off, working_weekend_days=working)
            self._years[year] = cached
        return cached

    def info(self, day: date) -> DayInfo:
        if day in self.working_days:
            return DayInfo(day, True, f"working day by configuration: {self.working_days[day]}")
        if day in self.days_off:
            return DayInfo(day, False, f"day off by configuration: {self.days_off[day]}")
        year = self._year(day.year)
        if day in year.days_off:
            return DayInfo(day, False, year.days_off[day])
        if day.weekday() in WEEKEND:
            if day in year.working_weekend_days:
                return DayInfo(day, True, "make-up working day (a day off was moved from it)")
            return DayInfo(day, False, day.strftime("%A"))
        return DayInfo(day, True, "working day")

    def is_working_day(self, day: date) -> bool:
        return self.info(day).working

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def non_working_days(self, start: date, end: date) -> Iterable[DayInfo]:
        """Every non-working day from ``start`` to ``end`` inclusive."""
        day = start
        while day <= end:
            info = self.info(day)
            if not info.working:
                yield info
            day += timedelta(days=1)
