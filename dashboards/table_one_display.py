"""Table 1 as a reader expects it: words for every level and group (dashboards/labels.py),
an Overall column next to the groups, and ECOG and counts left as numbers; drawn as a plain
HTML table (`html_table`), full width, every row visible, each characteristic named once."""

from __future__ import annotations

from html import escape

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


# One style block for the whole table (not a style per cell: the page's message stays small).
STYLE = (
    "<style>.table-one{width:100%;border-collapse:collapse}"
    ".table-one th,.table-one td{padding:0.3rem 0.6rem;"
    "border-bottom:1px solid rgba(49,51,63,0.1)}"
    ".table-one thead th{border-bottom:2px solid rgba(49,51,63,0.4);text-align:right}"
    ".table-one thead th:nth-child(-n+2){text-align:left}"
    ".table-one tbody th{text-align:left;vertical-align:top}"
    ".table-one td.n{text-align:right;white-space:nowrap}</style>"
)


def html_table(table: pl.DataFrame) -> str:
    """Table 1 (`readable` output: Characteristic, Level, then count columns) as an HTML
    table: the characteristic once per block (rowspan), counts right-aligned, every cell
    escaped. Static HTML, not a data grid: the study view opens without the grid's scripts
    (docs/dashboards.md, Speed)."""
    columns = table.columns
    counts = columns[2:]
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    # Each run of rows with one characteristic is one block (its first row names it).
    runs = table.select(pl.col("Characteristic").rle_id().alias("run"))["run"]
    block = runs.value_counts(sort=False)
    span_of = dict(zip(block["run"], block["count"], strict=True))
    body, previous = [], None
    for run, row in zip(runs, table.iter_rows(named=True), strict=True):  # a few dozen rows
        cells = []
        if run != previous:
            cells.append(f'<th scope="rowgroup" rowspan="{span_of[run]}">'
                         f"{escape(str(row['Characteristic']))}</th>")
            previous = run
        cells.append(f"<td>{escape(str(row['Level']))}</td>")
        cells += [f'<td class="n">{escape("" if row[c] is None else str(row[c]))}</td>'
                  for c in counts]
        body.append("<tr>" + "".join(cells) + "</tr>")
    # Scrolls sideways only when the window is narrower than the table.
    return (f'{STYLE}<div style="overflow-x:auto"><table class="table-one"><thead><tr>{head}'
            f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>")
