"""The rule table file: what validation refuses, and what the shipped table says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from escalation.adapters.rule_files import RuleFileError, load_rule_table
from escalation.domain.rules import Attributes, RuleTable
from pydantic import ValidationError

from tests.escalation.support import d, table


def _table(**clock: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "x.clock",
        "title": "t",
        "counts_from": "receipt",
        "owed_by": "agency",
        "applies_by": "start",
        "versions": [
            {
                "rule_id": "x.v1",
                "version": 1,
                "effective_from": "2020-01-01",
                "unit": "working",
                "lengths": [{"days": 5}],
                "article": "A",
            }
        ],
    }
    return {"format": 1, "version": "t", "clocks": [{**base, **clock}]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "versions": [
                    {
                        "rule_id": "x.v1",
                        "version": 1,
                        "effective_from": "2020-01-01",
                        "unit": "working",
                        "lengths": [{"when": ["remote"], "days": 5}],
                        "article": "A",
                    }
                ]
            },
            "no normal length",
        ),
        (
            {
                "versions": [
                    {
                        "rule_id": "x.v2",
                        "version": 1,
                        "effective_from": "2021-01-01",
                        "unit": "working",
                        "lengths": [{"days": 5}],
                        "article": "A",
                    },
                    {
                        "rule_id": "x.v1",
                        "version": 1,
                        "effective_from": "2020-01-01",
                        "unit": "working",
                        "lengths": [{"days": 5}],
                        "article": "A",
                    },
                ]
            },
            "in order",
        ),
        ({"pause": ["CaseSuspended"]}, "go together"),
        ({"extend": ["DeadlineExtended"]}, "without any lawful extension"),
        ({"id": "Not An Id"}, "pattern"),
        ({"owed_by": "nobody"}, "owed_by"),
    ],
)
def test_validation_refuses(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RuleTable.model_validate(_table(**change))


def test_duplicate_clocks_are_refused() -> None:
    data = _table()
    data["clocks"] = data["clocks"] * 2
    with pytest.raises(ValidationError, match="same id"):
        RuleTable.model_validate(data)


def test_a_rule_file_that_is_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "clocks.toml"
    path.write_text("format = = 1")
    with pytest.raises(RuleFileError, match=r"clocks\.toml"):
        load_rule_table(path)


def test_the_most_specific_length_wins() -> None:
    version = table().clock("complaint.settlement.second").version_on(d("2026-07-01"))
    assert version is not None
    assert [
        version.length(a)
        for a in (
            Attributes(),
            Attributes(complicated=True),
            Attributes(remote=True),
            Attributes(remote=True, especially_complicated=True),
        )
    ] == [45, 60, 60, 70]


def test_versions_are_chosen_by_date() -> None:
    acceptance = table().clock("complaint.acceptance")
    assert acceptance.version_on(d("2013-12-15")) is None
    assert [acceptance.version_on(d(day)).rule_id for day in ("2026-06-30", "2026-07-01")] == [  # type: ignore[union-attr]
        "complaint.acceptance.tt07-2013",
        "complaint.acceptance.nd155-2026",
    ]
    settle = table().clock("complaint.settlement.first")
    assert settle.pause_rule_on(d("2026-06-30")) is None
    assert settle.pause_rule_on(d("2026-07-01")) is not None


def test_what_is_unconfirmed_says_so() -> None:
    # DOMAIN marks Decree 155/2026 UNVERIFIED: its acceptance rule and suspension reading carry a note.
    assert table().clock("complaint.acceptance").versions[-1].unconfirmed
    assert all(p.unconfirmed for p in table().clock("complaint.settlement.first").pauses)
