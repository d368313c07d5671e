"""The labelled corpus (tests/ingest/corpus/): recall on direct identifiers and the
false-positive rate on look-alike clinical values, each value screened in a column of its
kind as a registry delivers it (docs/privacy.md gives the figures)."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import polars as pl

from pipelines.ingest.identifiers import column_identifier_values, identifier_values

CORPUS = Path(__file__).resolve().parent / "corpus"
MIN_RECALL = 0.99
MAX_FALSE_POSITIVE_RATE = 0.005


def _rows(name: str) -> list[dict[str, str]]:
    with (CORPUS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _flagged(column: str, values: list[str]) -> set[str]:
    found = identifier_values(column, pl.Series(values, dtype=pl.String).unique())
    return {v for flagged in found.values() for v in flagged}


def test_corpus_recall_and_false_positive_rate():
    identifiers, lookalikes = _rows("identifiers.csv"), _rows("lookalikes.csv")
    assert len(identifiers) >= 300 and len(lookalikes) >= 300
    deliveries: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in lookalikes:
        deliveries[(row["column"], row["delivery"])].append(row["value"])

    false_positives = [(column, v) for (column, _), values in deliveries.items()
                       for v in sorted(_flagged(column, values))]
    # Each identifier alone among the usual values of its column.
    missed, per_kind = [], Counter()
    for row in identifiers:
        per_kind[row["kind"]] += 1
        background = deliveries.get((row["column"], "mixed"), [])
        if row["value"] not in _flagged(row["column"], [*background, row["value"]]):
            missed.append((row["kind"], row["column"]))

    recall = 1 - len(missed) / len(identifiers)
    fp_rate = len(false_positives) / len(lookalikes)
    print(f"\nidentifier corpus: recall {recall:.2%} ({len(identifiers) - len(missed)}/"
          f"{len(identifiers)}), false positives {fp_rate:.2%} ({len(false_positives)}/"
          f"{len(lookalikes)})")
    print("  by kind: " + ", ".join(f"{k} {n - sum(m[0] == k for m in missed)}/{n}"
                                    for k, n in sorted(per_kind.items())))
    assert recall >= MIN_RECALL, missed
    assert fp_rate <= MAX_FALSE_POSITIVE_RATE, false_positives


def test_corpus_covers_every_kind_in_every_column_kind():
    identifiers = _rows("identifiers.csv")
    kinds = {r["kind"] for r in identifiers}
    assert {"name", "e-mail", "phone", "French NIR/NIA", "UK NHS number", "US SSN",
            "Belgian national number", "Dutch BSN", "German IdNr", "IBAN", "address",
            "date of birth"} <= kinds
    columns = {r["column"] for r in identifiers}
    # id, free text, coded text, code, integer, decimal, date columns
    assert {"patient_id", "center_id", "ctcae_term", "clinical_t", "sex", "grade",
            "pack_years", "diagnosis_date"} <= columns


def test_screen_in_duckdb_flags_what_the_polars_screen_flags():
    """The loader screens each column where its rows are (DuckDB sets the registry-style ids
    aside): on every delivery of the corpus, identifiers added in, it flags the same values
    of the same kinds as `identifier_values` on the column's distinct values."""
    deliveries: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in _rows("lookalikes.csv") + _rows("identifiers.csv"):
        deliveries[(row["column"], row.get("delivery") or "identifiers")].append(row["value"])
    with duckdb.connect() as con:
        for (column, _), values in sorted(deliveries.items()):
            con.execute("CREATE OR REPLACE TEMP TABLE delivered (v VARCHAR)")
            con.executemany("INSERT INTO delivered VALUES (?)", [[v] for v in values + [None]])
            in_duckdb = column_identifier_values(con, "delivered", "v", column)
            assert in_duckdb == identifier_values(
                column, pl.Series(values, dtype=pl.String).unique()), column
