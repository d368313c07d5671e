"""The contract is self-consistent: references name real tables and key columns, code lists
are non-empty, every rule the code and the contract name exists, dialects are complete."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.contract.dialects import DIALECTS
from pipelines.contract.rules import RULES, Disposition
from pipelines.contract.staging import EXTRA_COLUMNS, staging_schema
from pipelines.contract.tables import CROSS_RECORD_RULES, TABLES, TABLES_BY_NAME, TYPES

ROOT = Path(__file__).resolve().parents[2]


def test_every_reference_names_a_real_table_and_key_column():
    for t in TABLES:
        for c in t.columns:
            if c.references is None:
                continue
            parent = TABLES_BY_NAME[c.references.table]
            assert c.references.key_column in parent.key, (t.name, c.name)
            if c.references.same_patient:
                assert "patient_id" in parent.column_names and "patient_id" in t.column_names


def test_keys_and_conditions_name_real_columns():
    for t in TABLES:
        assert set(t.key) <= set(t.column_names), t.name
        assert len(set(t.column_names)) == len(t.column_names), t.name
        if t.end_before_start:
            assert set(t.end_before_start) <= set(t.column_names)
        for c in t.columns:
            assert c.type in TYPES, (t.name, c.name)
            if c.required_if:
                assert c.required_if[0] in t.column_names


def test_code_lists_are_non_empty_and_only_on_codes():
    for t in TABLES:
        for c in t.columns:
            assert bool(c.codes) == (c.type == "code"), (t.name, c.name)
            assert len({code.lower() for code in c.codes}) == len(c.codes)


def test_patterns_compile_and_defaults_are_valid():
    for t in TABLES:
        for c in t.columns:
            if c.pattern:
                re.compile(c.pattern)
            if c.default is not None and c.codes:
                assert c.default in c.codes
            assert c.max_value_rule in RULES


def test_every_rule_used_exists_with_a_disposition():
    assert set(CROSS_RECORD_RULES) == {
        r for r, rule in RULES.items() if rule.disposition is Disposition.CROSS_RECORD_WARNING}
    for tables in CROSS_RECORD_RULES.values():
        assert set(tables) <= set(TABLES_BY_NAME)
    used = set()
    for path in (ROOT / "pipelines" / "ingest").rglob("*.py"):
        used |= set(re.findall(r'BatchDefect\(\s*"([a-z_0-9]+)"', path.read_text()))
        used |= set(re.findall(r'append\(\(\s*"([a-z_0-9]+)"', path.read_text()))
    assert {"code_list", "manifest_checksum", "direct_identifier"} <= used
    assert used <= set(RULES), used - set(RULES)
    for rule in RULES.values():
        assert rule.reason and not re.search(r"\{|\}", rule.reason)


def test_staging_extra_columns_do_not_clash_with_contract_columns():
    for name, extra in EXTRA_COLUMNS.items():
        assert not set(extra) & set(TABLES_BY_NAME[name].column_names)
        assert set(extra) <= set(staging_schema(name))


def test_dialects_have_two_partial_formats_and_known_aliases():
    for d in DIALECTS.values():
        assert len(d.partial_date_formats) == 2  # year-month, then year
        for table, aliases in d.header_aliases.items():
            assert set(aliases.values()) <= set(TABLES_BY_NAME[table].column_names)
