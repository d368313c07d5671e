"""Numbers as journals print them, for every page.

- p-values (NEJM/Lancet style, also the AMA Manual of Style, 11th ed., §20.9): "P < .001"
  is not used; we print "p < 0.001" below 0.001, three decimals below 0.01, two decimals
  otherwise ("p = 0.03", "p = 0.004"), and "p > 0.99" at the top; never "p = 0.000".
- Estimates with a confidence interval: "0.43 (95% CI 0.31–0.60)"; percentages
  "12.3% (95% CI 8.1–17.4)"; an en dash between the limits, the interval's level named.
- Dates without times (ISO 8601, "2026-10-31").
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

DASH = "–"
MISSING = "—"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def p_value(p: float | None) -> str:
    """'p < 0.001', 'p = 0.004', 'p = 0.03', 'p > 0.99'."""
    if _missing(p):
        return MISSING
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.3f}"
    if p > 0.99:
        return "p > 0.99"
    return f"p = {p:.2f}"


def p_cell(p: float | None) -> str:
    """A p-value in a table's p column: '<0.001', '0.004', '0.03', '>0.99'."""
    text = p_value(p)
    return text.removeprefix("p = ").replace("p < ", "<").replace("p > ", ">")


def estimate_ci(value: float | None, lower: float | None, upper: float | None, *,
                digits: int = 2, scale: float = 1.0, unit: str = "", level: int = 95) -> str:
    """'0.43 (95% CI 0.31–0.60)'; with unit '%' and scale 100: '12.3% (95% CI 8.1–17.4)'."""
    if _missing(value):
        return MISSING

    def text(x: float | None) -> str:
        return "NR" if _missing(x) else f"{x * scale:.{digits}f}"

    return f"{text(value)}{unit} ({level}% CI {text(lower)}{DASH}{text(upper)})"


def percent_ci(value: float | None, lower: float | None, upper: float | None,
               digits: int = 1) -> str:
    return estimate_ci(value, lower, upper, digits=digits, scale=100, unit="%")


def date_text(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return MISSING
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat()


def dates_without_times(frame: pl.DataFrame) -> pl.DataFrame:
    """Datetime columns as dates (a registry date never has a meaningful time of day)."""
    return frame.with_columns(
        pl.col(name).dt.date() for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    )


def p_value_column(p: pl.Series) -> pl.Series:
    return pl.Series([p_value(x) for x in p.to_list()], dtype=pl.String)


def date_column_config(frame: pl.DataFrame) -> dict:
    """`st.dataframe` column_config showing date and datetime columns as dates only."""
    import streamlit as st

    return {
        name: st.column_config.DateColumn(name, format="YYYY-MM-DD")
        for name, dtype in frame.schema.items()
        if dtype == pl.Date or isinstance(dtype, pl.Datetime)
    }
