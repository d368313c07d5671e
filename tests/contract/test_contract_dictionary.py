"""The committed data dictionary is the one generated from the contract."""

from __future__ import annotations

from pathlib import Path

from pipelines.cli import main
from pipelines.contract.rules import RULES
from pipelines.contract.tables import TABLES
from pipelines.ingest.dictionary import render_dictionary

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def test_committed_dictionary_matches_the_contract():
    assert COMMITTED.read_text(encoding="utf-8") == render_dictionary(), (
        "docs/data-dictionary.md drifted: run `oligo dictionary --out docs/data-dictionary.md`")


def test_dictionary_lists_every_table_column_and_rule():
    text = render_dictionary()
    for t in TABLES:
        assert f"### {t.name}" in text
        for c in t.columns:
            assert f"| `{c.name}` |" in text
    for rule_id in RULES:
        assert f"| `{rule_id}` |" in text


def test_dictionary_command_writes_the_file(tmp_path):
    out = tmp_path / "dd.md"
    assert main(["dictionary", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_dictionary()
