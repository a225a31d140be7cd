"""Due dates worked out by hand from the law texts and a printed calendar (acceptance of issue 8).

Each case says why: the period and its article, the days counted, the days off met. 2026 days off (see
test_calendar.py): 1 Jan; Tết 16-20 Feb; 26 Apr (Sun) and 27 Apr (observed); 30 Apr, 1 May; 31 Aug (substituted
from Sat 22 Aug, a working day); 1-2 Sep; 24 Nov. Calendar days: the start day is not counted and a last day off
rolls to the next working day (Civil Code Arts. 147, 148(5)); working days: the Nth working day after the start.
"""

from __future__ import annotations

import pytest
from escalation.domain.counting import Unit
from escalation.domain.deadlines import NoRuleInForce, UnlawfulExtension, due_date
from escalation.domain.rules import Attributes, UnknownClock

from tests.escalation.support import calendar, d, table

C = Attributes(complicated=True)
E = Attributes(especially_complicated=True)
R = Attributes(remote=True)
RC = Attributes(remote=True, complicated=True)
NONE = Attributes()

CASES = [
    # --- complaint.filing: 90 calendar days (LKN Art. 9) ---
    # Knew of the decision Tue 10 Mar: 21 days to 31 Mar, +30 (April) = 51, +31 (May) = 82, +8 = Mon 8 Jun.
    ("complaint.filing", "2026-03-10", NONE, 0, None, "2026-06-08", 90, "complaint.filing.lkn2011"),
    # --- complaint.acceptance: 10 working days before 1 July 2026, 7 from then (law date = receipt) ---
    # Received Mon 22 Jun (old rule): 23,24,25,26 Jun (4), 29,30 Jun (6), 1,2,3 Jul (9), Mon 6 Jul (10).
    ("complaint.acceptance", "2026-06-22", NONE, 0, None, "2026-07-06", 10, "complaint.acceptance.tt07-2013"),
    # Received Tue 30 Jun, the last day of the old rule: 1,2,3 Jul (3), 6-10 Jul (8), 13 (9), Tue 14 Jul (10).
    ("complaint.acceptance", "2026-06-30", NONE, 0, None, "2026-07-14", 10, "complaint.acceptance.tt07-2013"),
    # Received Wed 1 Jul, the new rule's first day: 2,3 Jul (2), 6,7,8,9 (6), Fri 10 Jul (7): earlier than above.
    ("complaint.acceptance", "2026-07-01", NONE, 0, None, "2026-07-10", 7, "complaint.acceptance.nd155-2026"),
    # Received Wed 11 Feb, before Tết: 12,13 Feb (2); 14-22 Feb off (weekends and Tết 16-20); 23-27 Feb (7);
    # 2,3 Mar (9), Wed 4 Mar (10).
    ("complaint.acceptance", "2026-02-11", NONE, 0, None, "2026-03-04", 10, "complaint.acceptance.tt07-2013"),
    # --law-date picks the version: received Thu 2 Jul but judged by the old rule: 3 Jul (1), 6-10 (6),
    # 13,14,15 (9), Thu 16 Jul (10).
    ("complaint.acceptance", "2026-07-02", NONE, 0, "2026-06-30", "2026-07-16", 10, "complaint.acceptance.tt07-2013"),
    # --- complaint.settlement.first: 30 / complicated 45 / remote 45 / remote+complicated 60 (LKN Art. 28) ---
    # Accepted Wed 15 Jul: 16 days to 31 Jul, +14 = Fri 14 Aug, a working day.
    ("complaint.settlement.first", "2026-07-15", NONE, 0, None, "2026-08-14", 30, "complaint.settlement.first.lkn2011"),
    # Last day on a Sunday: accepted Fri 17 Jul, 14 days to 31 Jul, +16 = Sun 16 Aug -> Mon 17 Aug.
    ("complaint.settlement.first", "2026-07-17", NONE, 0, None, "2026-08-17", 30, "complaint.settlement.first.lkn2011"),
    # Last day on 2 September: accepted Mon 3 Aug, 28 days to 31 Aug, +2 = Wed 2 Sep (National Day) -> Thu 3 Sep.
    ("complaint.settlement.first", "2026-08-03", NONE, 0, None, "2026-09-03", 30, "complaint.settlement.first.lkn2011"),
    # Complicated, 45: accepted Wed 15 Jul, 16 to 31 Jul, +29 = Sat 29 Aug; 30 Aug Sun, 31 Aug substituted day off,
    # 1-2 Sep National Day -> Thu 3 Sep.
    ("complaint.settlement.first", "2026-07-15", C, 0, None, "2026-09-03", 45, "complaint.settlement.first.lkn2011"),
    # Remote, 45, last day in 30 April - 1 May: accepted Mon 16 Mar, 15 days to 31 Mar, +30 = Thu 30 Apr
    # (Reunification Day); Fri 1 May (Labour Day), 2-3 May weekend -> Mon 4 May.
    ("complaint.settlement.first", "2026-03-16", R, 0, None, "2026-05-04", 45, "complaint.settlement.first.lkn2011"),
    # Remote and complicated, 60: accepted Fri 3 Jul, 28 days to 31 Jul, +31 (Aug) = 59, +1 = Tue 1 Sep (National
    # Day); 2 Sep too -> Thu 3 Sep.
    ("complaint.settlement.first", "2026-07-03", RC, 0, None, "2026-09-03", 60, "complaint.settlement.first.lkn2011"),
    # Especially complicated has no length of its own for complaints: the complicated one, 45 (as above).
    ("complaint.settlement.first", "2026-07-15", E, 0, None, "2026-09-03", 45, "complaint.settlement.first.lkn2011"),
    # --- complaint.settlement.second: 45 / 60 / 60 / 70 (LKN Art. 37) ---
    # Accepted Mon 20 Jul: 11 days to 31 Jul, +31 (Aug) = 42, +3 = Thu 3 Sep.
    (
        "complaint.settlement.second",
        "2026-07-20",
        NONE,
        0,
        None,
        "2026-09-03",
        45,
        "complaint.settlement.second.lkn2011",
    ),
    # Complicated, 60: accepted Fri 25 Sep, 5 days to 30 Sep, +31 (Oct) = 36, +24 = Tue 24 Nov (Vietnam Cultural
    # Day) -> Wed 25 Nov.
    ("complaint.settlement.second", "2026-09-25", C, 0, None, "2026-11-25", 60, "complaint.settlement.second.lkn2011"),
    # Remote, 60: accepted Mon 20 Jul, 42 days to 31 Aug, +18 = Fri 18 Sep.
    ("complaint.settlement.second", "2026-07-20", R, 0, None, "2026-09-18", 60, "complaint.settlement.second.lkn2011"),
    # Remote and complicated, 70: accepted Mon 20 Jul, 42 days to 31 Aug, +28 = Mon 28 Sep.
    ("complaint.settlement.second", "2026-07-20", RC, 0, None, "2026-09-28", 70, "complaint.settlement.second.lkn2011"),
    # --- complaint.second_round_filing: 30, remote 45 (LKN Art. 33(1)) ---
    # Decision Wed 1 Apr: 29 days to 30 Apr, +1 = Fri 1 May (Labour Day); 2-3 May weekend -> Mon 4 May.
    (
        "complaint.second_round_filing",
        "2026-04-01",
        NONE,
        0,
        None,
        "2026-05-04",
        30,
        "complaint.second_round_filing.lkn2011",
    ),
    # Remote, 45: 29 days to 30 Apr, +16 = Sat 16 May -> Mon 18 May.
    (
        "complaint.second_round_filing",
        "2026-04-01",
        R,
        0,
        None,
        "2026-05-18",
        45,
        "complaint.second_round_filing.lkn2011",
    ),
    # --- denunciation.intake: 7 working days, 10 when verified at several places (LTC Art. 24(1)) ---
    # Across the substituted day off: received Tue 25 Aug: 26,27,28 Aug (3); 29-30 weekend, 31 Aug substituted,
    # 1-2 Sep National Day; 3,4 Sep (5); 7 (6), Tue 8 Sep (7).
    ("denunciation.intake", "2026-08-25", NONE, 0, None, "2026-09-08", 7, "denunciation.intake.ltc2018"),
    # Across the make-up Saturday: received Wed 19 Aug: 20,21 Aug (2), Sat 22 Aug worked (3), 24,25,26 (6),
    # Thu 27 Aug (7); without the make-up day it would be Fri 28 Aug.
    ("denunciation.intake", "2026-08-19", NONE, 0, None, "2026-08-27", 7, "denunciation.intake.ltc2018"),
    # Several places, 10: as above to 27 Aug (7), 28 Aug (8); 29 Aug - 2 Sep off; 3 Sep (9), Fri 4 Sep (10).
    (
        "denunciation.intake",
        "2026-08-19",
        Attributes(several_places=True),
        0,
        None,
        "2026-09-04",
        10,
        "denunciation.intake.ltc2018",
    ),
    # --- denunciation.forward: 5 working days (LTC Art. 24(2)) ---
    # Received Fri 24 Apr: 25 Sat, 26 Sun (Hung Kings), 27 Mon (observed) off; 28, 29 Apr (2); 30 Apr - 3 May off;
    # 4, 5 May (4), Wed 6 May (5).
    ("denunciation.forward", "2026-04-24", NONE, 0, None, "2026-05-06", 5, "denunciation.forward.ltc2018"),
    # --- denunciation.settlement: 30 days, +30 per lawful extension (LTC Art. 30) ---
    # Last day inside Tết: accepted Mon 19 Jan, 12 days to 31 Jan, +18 = Wed 18 Feb (2nd day of Tết); 19-20 Feb
    # Tết, 21-22 weekend -> Mon 23 Feb.
    ("denunciation.settlement", "2026-01-19", NONE, 0, None, "2026-02-23", 30, "denunciation.settlement.ltc2018"),
    # A make-up Saturday is a working day, so a last day on it stands: accepted Thu 23 Jul, 8 days to 31 Jul,
    # +22 = Sat 22 Aug (worked for 31 Aug) -> Sat 22 Aug.
    ("denunciation.settlement", "2026-07-23", NONE, 0, None, "2026-08-22", 30, "denunciation.settlement.ltc2018"),
    # Complicated, one extension: 60 days from Fri 10 Jul: 21 days to 31 Jul, +31 (Aug) = 52, +8 = Tue 8 Sep.
    ("denunciation.settlement", "2026-07-10", C, 1, None, "2026-09-08", 60, "denunciation.settlement.ltc2018"),
    # Especially complicated, two extensions: 90 days: Tue 8 Sep (60), +22 = 30 Sep (82), +8 = Thu 8 Oct.
    ("denunciation.settlement", "2026-07-10", E, 2, None, "2026-10-08", 90, "denunciation.settlement.ltc2018"),
    # Especially complicated may also use one extension only: 60 days, Tue 8 Sep.
    ("denunciation.settlement", "2026-07-10", E, 1, None, "2026-09-08", 60, "denunciation.settlement.ltc2018"),
    # --- reception.reply: 10 working days (LTCD Art. 28(1)) ---
    # Received Tue 17 Nov: 18,19,20 (3), 23 (4), 24 Nov Cultural Day off, 25,26,27 (7), 30 Nov (8), 1 Dec (9),
    # Wed 2 Dec (10).
    ("reception.reply", "2026-11-17", NONE, 0, None, "2026-12-02", 10, "reception.reply.ltcd2013"),
    # Received Fri 13 Feb, before Tết: 14-22 Feb off; 23-27 Feb (5), 2-5 Mar (9), Fri 6 Mar (10).
    ("reception.reply", "2026-02-13", NONE, 0, None, "2026-03-06", 10, "reception.reply.ltcd2013"),
]


@pytest.mark.parametrize(
    ("clock", "start", "attributes", "extensions", "law_date", "due", "days", "rule_id"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[5]}" for c in CASES],
)
def test_hand_worked_due_dates(
    clock: str,
    start: str,
    attributes: Attributes,
    extensions: int,
    law_date: str | None,
    due: str,
    days: int,
    rule_id: str,
) -> None:
    result = due_date(
        table(),
        calendar(),
        clock,
        d(start),
        attributes,
        extensions=extensions,
        law_date=d(law_date) if law_date else None,
    )
    assert (result.due, result.days, result.rule_id) == (d(due), days, rule_id)


def test_every_clock_has_a_hand_worked_case() -> None:
    assert {c.id for c in table().clocks} == {case[0] for case in CASES}


def test_both_sides_of_1_july_2026_for_every_clock_in_force_then() -> None:
    # Every clock answers on 30 June and on 1 July 2026; only complaint.acceptance changes its rule that day.
    for clock in table().clocks:
        before = due_date(table(), calendar(), clock.id, d("2026-06-30"))
        after = due_date(table(), calendar(), clock.id, d("2026-07-01"))
        changed = before.rule_id != after.rule_id
        assert changed == (clock.id == "complaint.acceptance"), clock.id


def test_the_result_names_its_rule() -> None:
    result = due_date(table(), calendar(), "complaint.acceptance", d("2026-07-01"))
    assert result.unit is Unit.WORKING
    assert result.rule_version == 1
    assert result.article.startswith("Decree 155/2026")
    assert result.effective_from == d("2026-07-01")
    assert result.applies_by == "receipt"
    assert result.unconfirmed  # the decree's text is a third-party transcription


def test_roll_forward_is_reported() -> None:
    # Sun 16 Aug rolls to Mon 17 Aug (see CASES).
    result = due_date(table(), calendar(), "complaint.settlement.first", d("2026-07-17"))
    assert (result.raw_last_day, result.due) == (d("2026-08-16"), d("2026-08-17"))


@pytest.mark.parametrize(
    ("attributes", "extensions", "message"),
    [
        (NONE, 1, "allows 0 extension"),  # not complicated: no extension (LTC Art. 30(2))
        (C, 2, "allows 1 extension"),  # complicated: one
        (E, 3, "allows 2 extension"),  # especially complicated: two
    ],
)
def test_unlawful_extensions_are_refused(attributes: Attributes, extensions: int, message: str) -> None:
    with pytest.raises(UnlawfulExtension, match=message):
        due_date(table(), calendar(), "denunciation.settlement", d("2026-07-10"), attributes, extensions=extensions)


def test_clocks_without_extensions_refuse_them() -> None:
    with pytest.raises(UnlawfulExtension, match="no lawful extension"):
        due_date(table(), calendar(), "complaint.settlement.first", d("2026-07-10"), C, extensions=1)


def test_unknown_clock_and_dates_before_any_law() -> None:
    with pytest.raises(UnknownClock, match=r"complaint\.settlement\.third"):
        due_date(table(), calendar(), "complaint.settlement.third", d("2026-07-10"))
    with pytest.raises(NoRuleInForce, match="2018-12-31"):
        due_date(table(), calendar(), "denunciation.intake", d("2018-12-31"))
