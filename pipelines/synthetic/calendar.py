"""Day arithmetic on numpy int64 day numbers (days since 1970-01-01)."""

from __future__ import annotations

import datetime as dt

import numpy as np

NEVER = 10**7  # a day number later than any real date: "did not happen"


def day_number(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """Same day `months` calendar months later, clamped to the month's last day
    (docs/clinical-rules.md section 3: synchronous window on calendar months)."""
    d = np.asarray(days).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = (d - month).astype(np.int64)
    target = month + months
    last_day = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64) - 1
    return (target.astype("datetime64[D]") + np.minimum(day_of_month, last_day)).astype(np.int64)


def month_start(days: np.ndarray) -> np.ndarray:
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def month_end(days: np.ndarray) -> np.ndarray:
    m = np.asarray(days).astype("datetime64[D]").astype("datetime64[M]")
    return ((m + 1).astype("datetime64[D]") - 1).astype(np.int64)


def day_of_month(days: np.ndarray) -> np.ndarray:
    d = np.asarray(days).astype("datetime64[D]")
    return (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1


def year(days: np.ndarray) -> np.ndarray:
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
