"""The push contract's JSON schemas, from the models, into ``docs/national-sync.md`` (between its markers).

``python -m national_sync.export_schemas [--doc docs/national-sync.md] [--check]``; a test runs the check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import BaseModel

from national_sync.domain.records import NationalCase, NationalReception, NationalSeal, PushEnvelope

BEGIN = "<!-- BEGIN GENERATED SCHEMAS (python -m national_sync.export_schemas) -->"
END = "<!-- END GENERATED SCHEMAS -->"
MODELS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("A pushed version (kind, record id, version, previous version, record)", PushEnvelope),
    ("Case record (`kind` = `case`)", NationalCase),
    ("Reception-book entry record (`kind` = `reception`)", NationalReception),
    ("Seal record (`kind` = `seal`)", NationalSeal),
)


def generated() -> str:
    parts = [BEGIN]
    for title, model in MODELS:
        schema = json.dumps(model.model_json_schema(mode="serialization"), indent=2, ensure_ascii=False)
        parts += [f"\n### {title}\n", "```json", schema, "```"]
    parts.append(END)
    return "\n".join(parts)


def render(doc: str) -> str:
    """The document with its generated part replaced by a fresh export."""
    start, end = doc.index(BEGIN), doc.index(END) + len(END)
    return doc[:start] + generated() + doc[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--doc", type=Path, default=Path("docs/national-sync.md"))
    parser.add_argument("--check", action="store_true", help="Exit 1 when the document is out of date")
    args = parser.parse_args(argv)
    doc = args.doc.read_text(encoding="utf-8")
    fresh = render(doc)
    if args.check:
        if fresh != doc:
            print(f"{args.doc} is out of date: run python -m national_sync.export_schemas", file=sys.stderr)
            return 1
        return 0
    args.doc.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
