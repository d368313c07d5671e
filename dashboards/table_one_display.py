"""Table 1 as a reader expects it: words for every level and group (dashboards/labels.py),
an Overall column next to the groups, and ECOG and counts left as numbers."""

from __future__ import annotations

import polars as pl

from dashboards.labels import CODE_LABELS, label
from dashboards.table_one import ALL, CATEGORICAL

OVERALL = "Overall"
TITLE_TO_COLUMN = {title: column for column, title in CATEGORICAL}
BOOLEAN_WORDS = {"is_synchronous": {"synchronous": "Synchronous", "metachronous": "Metachronous"},
                 "all_sites_treated": {"yes": "Yes", "no": "No"}}


def level_words(table: pl.DataFrame) -> pl.DataFrame:
    mapping = {
        (title, code): words
        for title, column in TITLE_TO_COLUMN.items()
        for code, words in (CODE_LABELS.get(column, {}) | BOOLEAN_WORDS.get(column, {})).items()
    }
    keys = pl.concat_str(["Characteristic", "Level"], separator="\u0000")
    flat = {f"{t}\u0000{c}": w for (t, c), w in mapping.items()}
    coded = pl.col("Characteristic").is_in([t for t, c in TITLE_TO_COLUMN.items()
                                             if c in CODE_LABELS])
    readable_code = pl.col("Level").str.replace_all("_", " ")
    readable_code = readable_code.str.slice(0, 1).str.to_uppercase() + readable_code.str.slice(1)
    fallback = pl.when(coded).then(readable_code).otherwise(pl.col("Level"))
    return table.with_columns(Level=keys.replace_strict(flat, default=fallback))


def readable(grouped: pl.DataFrame, overall: pl.DataFrame, group: str | None) -> pl.DataFrame:
    """`grouped`: `table_one` by `group`; `overall`: `table_one` without a group."""
    table = grouped
    if group is not None and ALL in overall.columns:
        table = grouped.join(
            overall.select("Characteristic", "Level", pl.col(ALL).alias(OVERALL)),
            on=["Characteristic", "Level"], how="left", maintain_order="left",
        ).select("Characteristic", "Level", OVERALL, *[c for c in grouped.columns
                                                        if c not in ("Characteristic", "Level")])
    elif ALL in table.columns:
        table = table.rename({ALL: OVERALL})
    if group is not None:
        table = table.rename({c: label(group, c) for c in table.columns
                              if c not in ("Characteristic", "Level", OVERALL)
                              and label(group, c) not in table.columns})
    return level_words(table)
