"""Counting a period of days (DOMAIN §3 "Counting days").

*Calendar days* follow the Civil Code 2015 (Arts. 145-148), which applies unless another law says otherwise:
the day of the start event is not counted, counting begins the next day (Art. 147(1)); the period ends at the end
of its last day (Art. 148(1)); when the last day is a weekly day off or a public holiday, the period ends at the
end of the next working day (Art. 148(5)). "Day off or holiday" is read as "not a working day of the calendar",
so a make-up working Saturday is a normal last day and a configured local day off rolls forward too.

*Working days* count only working days after the start day: the Nth working day after it is the last day, and no
roll-forward is needed because that day is a working day by construction.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from escalation.domain.calendar import WorkingCalendar


class Unit(StrEnum):
    CALENDAR = "calendar"
    WORKING = "working"


def raw_last_day(calendar: WorkingCalendar, start: date, days: int, unit: Unit) -> date:
    """The period's last day before any roll-forward (for working days: the Nth working day after ``start``)."""
    if days < 0:
        raise ValueError("a period cannot be negative")
    if unit is Unit.CALENDAR:
        return start + timedelta(days=days)
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return day


def last_day(calendar: WorkingCalendar, start: date, days: int, unit: Unit) -> date:
    """The last day of a period of ``days`` counted from ``start`` (the period ends at the end of this day)."""
    day = raw_last_day(calendar, start, days, unit)
    if unit is Unit.CALENDAR and not calendar.is_working_day(day):
        return calendar.next_working_day(day)  # Civil Code Art. 148(5)
    return day


def days_elapsed(calendar: WorkingCalendar, start: date, end: date, unit: Unit) -> int:
    """How many days of the period have been used from ``start`` (not counted) to ``end`` (counted)."""
    if end <= start:
        return 0
    if unit is Unit.CALENDAR:
        return (end - start).days
    return sum(1 for n in range(1, (end - start).days + 1) if calendar.is_working_day(start + timedelta(days=n)))
