"""Counting the periods routing checks (LKN Arts. 9, 11(8), 33(1)) the way the Civil Code counts days.

Civil Code 2015 Art. 147: a period in days starts the day after the triggering event; Art. 148(1): it ends at the
end of its last day; Art. 148(5): a last day that is a weekend or public holiday moves to the next working day.
Which days are off is an input (:data:`DayOff`), by default Vietnam's calendar from the ``holidays`` package
(substituted days off included, make-up working Saturdays excluded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays

DayOff = Callable[[date], bool]


@cache
def _vietnam() -> holidays.HolidayBase:
    return holidays.country_holidays("VN")


def vietnam_day_off(day: date) -> bool:
    """Whether ``day`` is not a working day in Vietnam (weekend or public holiday, make-up Saturdays work)."""
    return not _vietnam().is_working_day(day)


@dataclass(frozen=True)
class Deadline:
    """The last day of a period and how it was reached."""

    start: date
    days: int
    last_day: date
    rolled_from: date | None = None

    def expired_on(self, day: date) -> bool:
        """Whether something done on ``day`` is after the period's end."""
        return day > self.last_day

    def describe(self) -> str:
        rolled = f", rolled from {self.rolled_from} (a day off)" if self.rolled_from else ""
        return f"{self.days} days after {self.start} end on {self.last_day}{rolled}"


def last_day(start: date, days: int, day_off: DayOff = vietnam_day_off) -> Deadline:
    """The period of ``days`` days that starts the day after ``start`` (Civil Code Arts. 147-148)."""
    end = start + timedelta(days=days)
    rolled = end
    while day_off(rolled):
        rolled += timedelta(days=1)
    return Deadline(start, days, rolled, end if rolled != end else None)
