"""Laws that hold for every start date and period (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

from escalation.domain.clocks import replay
from escalation.domain.counting import Unit, days_elapsed, last_day, raw_last_day
from escalation.domain.deadlines import due_date
from escalation.domain.events import DeadlineMoved, DeadlineSet
from escalation.domain.rules import Attributes
from hypothesis import given, settings
from hypothesis import strategies as st
from intake.domain.model import PetitionKind

from tests.escalation.support import accepted, calendar, envelope, policy, received, resumed, suspended, table

starts = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
periods = st.integers(min_value=1, max_value=120)
units = st.sampled_from(list(Unit))


def _clocks() -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(c.id for c in table().clocks))


attributes = st.builds(Attributes, complicated=st.booleans(), remote=st.booleans(), several_places=st.booleans())


@settings(max_examples=300, deadline=None)
@given(start=starts, days=periods, unit=units)
def test_a_due_date_is_always_a_working_day(start: date, days: int, unit: Unit) -> None:
    assert calendar().is_working_day(last_day(calendar(), start, days, unit))


@settings(max_examples=300, deadline=None)
@given(start=starts, days=periods, unit=units)
def test_a_longer_period_never_ends_earlier(start: date, days: int, unit: Unit) -> None:
    assert last_day(calendar(), start, days + 1, unit) >= last_day(calendar(), start, days, unit)


@settings(max_examples=300, deadline=None)
@given(start=starts, days=periods, unit=units)
def test_a_later_start_never_ends_earlier(start: date, days: int, unit: Unit) -> None:
    assert last_day(calendar(), start + timedelta(days=1), days, unit) >= last_day(calendar(), start, days, unit)


@settings(max_examples=300, deadline=None)
@given(start=starts, days=periods)
def test_calendar_days_roll_only_over_days_off(start: date, days: int) -> None:
    raw = raw_last_day(calendar(), start, days, Unit.CALENDAR)
    due = last_day(calendar(), start, days, Unit.CALENDAR)
    assert raw == start + timedelta(days=days)
    skipped = [raw + timedelta(days=n) for n in range((due - raw).days)]
    assert all(not calendar().is_working_day(day) for day in skipped)


@settings(max_examples=300, deadline=None)
@given(start=starts, days=periods)
def test_working_days_count_back_to_the_period(start: date, days: int) -> None:
    due = last_day(calendar(), start, days, Unit.WORKING)
    assert days_elapsed(calendar(), start, due, Unit.WORKING) == days
    assert days_elapsed(calendar(), start, due - timedelta(days=1), Unit.WORKING) == days - 1


@settings(max_examples=200, deadline=None)
@given(clock=_clocks(), start=starts, plain=attributes)
def test_attributes_never_shorten_a_clock(clock: str, start: date, plain: Attributes) -> None:
    more = plain.model_copy(update={"complicated": True, "remote": True, "several_places": True})
    assert (
        due_date(table(), calendar(), clock, start, more).due >= due_date(table(), calendar(), clock, start, plain).due
    )


@settings(max_examples=200, deadline=None)
@given(start=starts, extensions=st.integers(min_value=0, max_value=1))
def test_an_extension_never_ends_earlier(start: date, extensions: int) -> None:
    especially = Attributes(especially_complicated=True)
    shorter = due_date(table(), calendar(), "denunciation.settlement", start, especially, extensions=extensions)
    longer = due_date(table(), calendar(), "denunciation.settlement", start, especially, extensions=extensions + 1)
    assert longer.due > shorter.due


@settings(max_examples=150, deadline=None)
@given(
    accepted_on=st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 6, 30)),
    used=st.integers(min_value=0, max_value=29),
    pause=st.integers(min_value=0, max_value=60),
)
def test_suspended_days_do_not_count(accepted_on: date, used: int, pause: int) -> None:
    # LTC Art. 34(2): a denunciation suspended after `used` days and resumed `pause` days later ends exactly
    # `pause` days later (before the roll-forward); resumed the same day, nothing moves.
    suspended_on = accepted_on + timedelta(days=used)
    resumed_on = suspended_on + timedelta(days=pause)
    history = [
        envelope(received(accepted_on.isoformat(), PetitionKind.DENUNCIATION), 1, accepted_on),
        envelope(accepted(accepted_on.isoformat()), 2, accepted_on),
        envelope(suspended(suspended_on.isoformat()), 3, suspended_on),
        envelope(resumed(resumed_on.isoformat()), 4, resumed_on),
    ]
    _, events = replay(history, policy())
    first = next(e for e in events if isinstance(e, DeadlineSet) and e.clock == "denunciation.settlement")
    moved = next(e for e in events if isinstance(e, DeadlineMoved) and e.clock == "denunciation.settlement")
    expected_raw = accepted_on + timedelta(days=30 + pause)
    assert moved.due == last_day(calendar(), expected_raw, 0, Unit.CALENDAR)
    if pause == 0:
        assert moved.due == first.due
