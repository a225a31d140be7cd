"""``docs/national-sync.md`` carries the push contract's JSON schemas exactly as the models export them."""

from __future__ import annotations

from pathlib import Path

from national_sync.export_schemas import BEGIN, END, generated, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "national-sync.md"


def test_the_documented_schemas_are_a_fresh_export() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert doc.count(BEGIN) == 1 and doc.count(END) == 1
    assert render(doc) == doc, "docs/national-sync.md is out of date: run python -m national_sync.export_schemas"


def test_the_schemas_name_every_record_and_no_identity_field() -> None:
    schemas = generated()
    for title in ("NationalCase", "NationalReception", "NationalSeal", "PushEnvelope"):
        assert f'"title": "{title}"' in schemas
    for personal in ("full_name", "id_number", "address", "phone", "person_id", "submitters", "citizens"):
        assert f'"{personal}"' not in schemas
