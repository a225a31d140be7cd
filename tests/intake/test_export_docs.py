"""The committed API documents are what the code produces (``make docs``), and describe what intake answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from intake.api.export_docs import NATS_REQUESTS, documents, main, nats_subject
from intake.entrypoints.nats_api import FORWARDED_HEADERS, subjects

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", ["openapi.json", "asyncapi.json"])
def test_committed_document_equals_a_fresh_export(name: str) -> None:
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert committed == documents()[name], f"docs/{name} is out of date: run `make docs` and commit it"


def test_main_writes_both_documents(tmp_path: Path) -> None:
    main(["--out", str(tmp_path / "out")])
    for name, text in documents().items():
        assert (tmp_path / "out" / name).read_text(encoding="utf-8") == text


def test_openapi_has_no_servers_and_every_route() -> None:
    document = json.loads(documents()["openapi.json"])
    assert "servers" not in document
    assert {"/v1/petitions", "/v1/cases", "/v1/cases/{case_id}", "/v1/feed"} <= set(document["paths"])


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_asyncapi_references_all_resolve() -> None:
    document = json.loads(documents()["asyncapi.json"])
    assert document["asyncapi"] == "3.0.0"
    refs = _refs(document)
    assert refs
    for ref in refs:
        _resolve(document, ref)


def test_asyncapi_describes_exactly_the_subjects_intake_answers() -> None:
    answered = subjects("52")
    assert {nats_subject("52", r) for r in NATS_REQUESTS} == set(answered)
    for request in NATS_REQUESTS:
        method, path = answered[nats_subject("52", request)]
        assert request.http == f"{method} {path}"
    document = json.loads(documents()["asyncapi.json"])
    for message in document["components"]["messages"].values():
        for header in message.get("headers", {}).get("properties", {}):
            assert header.lower() in (*FORWARDED_HEADERS, "case-id"), header
