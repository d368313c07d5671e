"""The one disclosure-control layer: every count, curve and number at risk a page shows
leaves through here. Reasoning, parameters and sources: docs/disclosure-control.md.

Method (aggregate role): the **cell-key method** (ABS TableBuilder; ONS Census 2021
flexible table builder) on top of a **minimum cell size**.

- Every unit (episode, patient, course, ...) has a record key, an integer 0–255 derived
  from its pseudonymous id with a keyed hash (`record_keys`; the key lives in
  `OLIGO_HOME/keys/record-key`, never in the published files), so no pipeline change is
  needed and the key of a unit never changes between batches or sessions.
- A cell's key is the sum of its units' record keys modulo 256; its noise is looked up in
  the p-table (`ptable`) by (true count, cell key). The same set of units therefore always
  shows the same value, whichever page, filter order or session produced the cell, and the
  difference of two overlapping cells stays noisy (their cell keys are unrelated).
- Counts from 1 to threshold−1 are shown as "<threshold" (default "<5"); zero is shown;
  a count ≥ threshold is never perturbed below the threshold.
- Curves and rates (Kaplan–Meier, CIF, a percentage) are drawn only for groups of at
  least `min_group` units (default 20) with at least `threshold` events (`gate_groups`);
  numbers at risk go through the same cell-key counting (`protected_at_risk`).

Analyst and admin roles see the true counts with no suppression and no curve gate (they
may open the row-level data anyway). A `Policy` carries the role, so a cache keyed by the
policy is keyed by role.

API (frames in, frames out; no Streamlit):

- `policy_for(role) -> Policy`
- `protected_counts(rows, by, unit=..., policy=...)` → one row per group: `by` columns,
  `n` (shown value; null when small), `n_label` (text), `n_small`. Counts distinct units.
- `protected_total(rows, unit=..., policy=...) -> Count` (value, label, is_small)
- `protected_flag_counts(rows, flags, unit=..., policy=...)` → `label`, `n`, `n_label`,
  `n_small` for non-exclusive yes/no columns (organ flags), zeros kept.
- `protected_at_risk(rows, time=..., at=..., by=..., unit=..., policy=...)` → numbers at
  risk (time ≥ t) as protected counts.
- `gate_groups(rows, group, unit=..., event=..., policy=...) -> GroupGate` (`allowed`,
  `refused` {group: reason}) and `gate_message(gate)`.
- `percent_text(part, whole)` on two shown `Count`s.
- `rows_allowed(policy)`: whether row-level data may be shown at all.
- `with_record_keys(rows, unit)`: adds `_rk_<unit>`; do it once in a cached loader (as
  `dashboards.data.cohort` does for episodes and patients), else every call hashes again.

`event` columns for the gate are 1 (or > 0) for the event the curve draws; pass a 0/1
column of the event of interest for a cumulative incidence.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from pipelines.settings import paths

ROLES_WITH_EXACT_COUNTS = ("analyst", "admin")
KEY_RANGE = 256  # record and cell keys are 0..255 (ONS/Cantabular and SuperSTAR use 256)
KEY_PREFIX = "_rk_"  # column holding a unit's record key: _rk_<unit>

THRESHOLD_ENV = "OLIGO_SMALL_COUNT_THRESHOLD"
MIN_GROUP_ENV = "OLIGO_MIN_CURVE_GROUP"
MAX_NOISE_ENV = "OLIGO_CKM_MAX_NOISE"
VARIANCE_ENV = "OLIGO_CKM_VARIANCE"
DEFAULT_THRESHOLD = 5
DEFAULT_MIN_GROUP = 20
DEFAULT_MAX_NOISE = 3
DEFAULT_VARIANCE = 2.0
KEY_FILE = Path("keys") / "record-key"


def _int_env(name: str, default: int, minimum: int) -> int:
    text = os.environ.get(name, "").strip()
    try:
        value = int(text) if text else default
    except ValueError:
        return default
    return max(value, minimum)


def _float_env(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        return default
    return value if value > 0 and math.isfinite(value) else default


@dataclass(frozen=True)
class Policy:
    role: str
    perturb: bool  # cell-key noise
    threshold: int  # counts 1..threshold-1 are shown as "<threshold" (1: nothing hidden)
    min_group: int  # smallest group a curve or rate is drawn for
    max_noise: int = DEFAULT_MAX_NOISE  # p-table D
    variance: float = DEFAULT_VARIANCE  # p-table V

    @property
    def small_label(self) -> str:
        return f"<{self.threshold}"

    @property
    def describe(self) -> str:
        if not self.perturb:
            return "Exact counts (role with row-level access)."
        return (
            f"Counts are protected: below {self.threshold} shown as {self.small_label}, "
            f"others carry a small consistent noise (up to ±{self.max_noise}); curves need "
            f"{self.min_group}+ per group."
        )


def policy_for(role: str) -> Policy:
    """The disclosure policy of a role; settings are read on call (tests may change them)."""
    if role in ROLES_WITH_EXACT_COUNTS:
        return Policy(role=role, perturb=False, threshold=1, min_group=1)
    return Policy(
        role=role,
        perturb=True,
        threshold=_int_env(THRESHOLD_ENV, DEFAULT_THRESHOLD, 1),
        min_group=_int_env(MIN_GROUP_ENV, DEFAULT_MIN_GROUP, 1),
        max_noise=_int_env(MAX_NOISE_ENV, DEFAULT_MAX_NOISE, 0),
        variance=_float_env(VARIANCE_ENV, DEFAULT_VARIANCE),
    )


def rows_allowed(policy: Policy) -> bool:
    """Row-level data (episode lists, CSV of rows, timelines) only for exact-count roles."""
    return not policy.perturb


# --- record keys -----------------------------------------------------------------------------


def record_key_secret(home: Path | None = None) -> str:
    """The keyed hash's secret (hex), created once per data folder with mode 0600."""
    path = (home or paths().home) / KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: read theirs
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    text = path.read_text().strip()
    if len(text) < 32:
        raise RuntimeError(f"{path}: the record-key secret is too short; delete it to renew")
    return text


def record_keys(ids: pl.Series, secret: str | None = None) -> pl.Series:
    """Record keys 0..255 of unit ids: sha256(secret ‖ sha256(secret ‖ id)) (a nested keyed
    hash, so no length-extension), first byte. Set-based in an in-memory DuckDB."""
    secret = secret or record_key_secret()
    frame = pl.DataFrame({"id": ids.cast(pl.String)})
    con = duckdb.connect(config={"enable_external_access": False})
    try:
        con.register("units", frame.to_arrow())
        digest = con.execute(
            "SELECT sha256(? || sha256(? || coalesce(id, ''))) AS h FROM units",
            [secret, secret],
        ).pl()["h"]
    finally:
        con.close()
    return digest.str.slice(0, 2).str.to_integer(base=16).cast(pl.Int64).rename(ids.name)


def with_record_keys(rows: pl.DataFrame, unit: str) -> pl.DataFrame:
    """`rows` with the record-key column `_rk_<unit>` (computed once per distinct unit)."""
    column = KEY_PREFIX + unit
    if column in rows.columns:
        return rows
    units = rows.select(unit).unique()
    keyed = units.with_columns(record_keys(units[unit]).alias(column))
    return rows.join(keyed, on=unit, how="left", nulls_equal=True)


# --- the p-table -----------------------------------------------------------------------------


def _row_probabilities(support: np.ndarray, b: float) -> np.ndarray:
    """p(d) ∝ exp(a·d + b·d²) on `support`, with `a` chosen for zero mean (bisection)."""
    if support.min() >= 0:
        return (support == 0).astype(float)  # no room below: the count stays as it is
    lo, hi = -50.0, 50.0
    for _ in range(200):
        a = (lo + hi) / 2
        weights = np.exp(a * support + b * support**2 - np.max(a * support + b * support**2))
        mean = float((weights * support).sum() / weights.sum())
        lo, hi = (a, hi) if mean < 0 else (lo, a)
    return weights / weights.sum()


def _variance_parameter(max_noise: int, variance: float) -> float:
    """The b of exp(b·d²) giving the unrestricted row (−D..D) the wanted variance."""
    support = np.arange(-max_noise, max_noise + 1, dtype=float)
    lo, hi = -20.0, 20.0
    for _ in range(200):
        b = (lo + hi) / 2
        weights = np.exp(b * support**2 - np.max(b * support**2))
        got = float((weights * support**2).sum() / weights.sum())
        lo, hi = (b, hi) if got < variance else (lo, b)
    return b


@lru_cache(maxsize=16)
def _ptable(threshold: int, max_noise: int, variance: float) -> pl.DataFrame:
    last_row = threshold + max_noise
    b = _variance_parameter(max_noise, variance) if max_noise else 0.0
    cuts = (np.arange(KEY_RANGE) + 0.5) / KEY_RANGE
    rows, keys, noise = [], [], []
    for count_row in range(last_row + 1):  # a handful of rows, not data
        if count_row < threshold or max_noise == 0:
            perturbation = np.zeros(KEY_RANGE, dtype=np.int64)
        else:
            support = np.arange(max(-max_noise, threshold - count_row), max_noise + 1)
            probabilities = _row_probabilities(support.astype(float), b)
            index = np.searchsorted(np.cumsum(probabilities), cuts, side="right")
            perturbation = support[np.minimum(index, support.size - 1)]
        rows.append(np.full(KEY_RANGE, count_row))
        keys.append(np.arange(KEY_RANGE))
        noise.append(perturbation)
    return pl.DataFrame(
        {
            "count_row": np.concatenate(rows).astype(np.int64),
            "cell_key": np.concatenate(keys).astype(np.int64),
            "perturbation": np.concatenate(noise).astype(np.int64),
        }
    )


def ptable(policy: Policy) -> pl.DataFrame:
    """(count_row, cell_key, perturbation): the noise of a cell with true count n and key k
    is the entry of row min(n, threshold + max_noise). Rows below the threshold are 0 (those
    cells are shown as "<threshold" or 0). Each row ≥ threshold: the maximum-entropy-shaped
    distribution p(d) ∝ exp(a·d + b·d²) on −D..D restricted to n + d ≥ threshold, zero mean,
    variance V where the restriction allows it (Giessing 2016's constraints), quantised to
    1/256 steps of the cell key."""
    return _ptable(policy.threshold, policy.max_noise, policy.variance)


# --- counts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    value: int | None  # the shown number; None when small (hidden)
    label: str
    is_small: bool

    def __str__(self) -> str:
        return self.label


def _labels(shown: pl.Expr, true_n: pl.Expr, policy: Policy, name: str) -> list[pl.Expr]:
    small = (true_n > 0) & (true_n < policy.threshold)
    return [
        pl.when(small).then(None).otherwise(shown).cast(pl.Int64).alias(name),
        pl.when(small)
        .then(pl.lit(policy.small_label))
        .otherwise(thousands(shown.cast(pl.Int64)))
        .alias(f"{name}_label"),
        small.alias(f"{name}_small"),
    ]


def thousands(n: pl.Expr) -> pl.Expr:
    """A non-negative integer as text with thousands separators: 1234567 → '1,234,567'."""
    def pad(x: pl.Expr) -> pl.Expr:
        return x.cast(pl.String).str.zfill(3)

    return (
        pl.when(n >= 1_000_000)
        .then(pl.format("{},{},{}", n // 1_000_000, pad((n // 1000) % 1000), pad(n % 1000)))
        .when(n >= 1000)
        .then(pl.format("{},{}", n // 1000, pad(n % 1000)))
        .otherwise(n.cast(pl.String))
    )


def protected_counts(
    rows: pl.DataFrame | pl.LazyFrame,
    by: Sequence[str],
    *,
    unit: str,
    policy: Policy,
    name: str = "n",
) -> pl.DataFrame:
    """Distinct `unit`s per group of `by`, protected: `by…`, `n`, `n_label`, `n_small`.

    Groups with no units do not appear (add zeros yourself where a zero must be shown)."""
    frame = rows.collect() if isinstance(rows, pl.LazyFrame) else rows
    by = list(by)
    key = KEY_PREFIX + unit
    columns = [*by, unit] + ([key] if key in frame.columns else [])
    units = frame.select(columns).unique(subset=[*by, unit])
    if policy.perturb:
        units = with_record_keys(units, unit)
    aggregations = [pl.len().cast(pl.Int64).alias("_true")]
    if policy.perturb:
        aggregations.append((pl.col(key).sum() % KEY_RANGE).cast(pl.Int64).alias("cell_key"))
    cells = units.group_by(by).agg(aggregations) if by else units.select(aggregations)
    if policy.perturb:
        last_row = policy.threshold + policy.max_noise
        cells = cells.with_columns(
            count_row=pl.col("_true").clip(upper_bound=last_row).cast(pl.Int64)
        ).join(ptable(policy), on=["count_row", "cell_key"], how="left")
        shown = pl.col("_true") + pl.col("perturbation").fill_null(0)
    else:
        shown = pl.col("_true")
    cells = cells.with_columns(_labels(shown, pl.col("_true"), policy, name))
    out = cells.select(*by, name, f"{name}_label", f"{name}_small")
    return out.sort(by) if by else out


def protected_aggregate_counts(
    counts: pl.DataFrame, *, count: str, identity: Sequence[str], policy: Policy,
    name: str = "n",
) -> pl.DataFrame:
    """Counts that arrive already aggregated (no rows, so no record keys), e.g.
    marts.cohort_attrition: the cell key is the keyed hash of the cell's identity columns and
    true count, so the cell shows the same value every time. Adds `n`, `n_label`,
    `n_small`; drops `count`."""
    identity = list(identity)
    text = pl.concat_str([pl.col(c).cast(pl.String) for c in identity] + [pl.col(count).cast(pl.String)],
                         separator="\x1f")
    keyed = counts.with_columns(_identity=text)
    cells = keyed.with_columns(_true=pl.col(count).cast(pl.Int64))
    if policy.perturb:
        cells = cells.with_columns(
            cell_key=record_keys(keyed["_identity"]),
            count_row=pl.col("_true").clip(upper_bound=policy.threshold + policy.max_noise),
        ).join(ptable(policy), on=["count_row", "cell_key"], how="left", maintain_order="left")
        shown = pl.col("_true") + pl.col("perturbation").fill_null(0)
    else:
        shown = pl.col("_true")
    extra = [c for c in ("cell_key", "count_row", "perturbation", "_true", "_identity", count)
             if c in cells.columns]
    return cells.with_columns(_labels(shown, pl.col("_true"), policy, name)).drop(extra)


def protected_total(rows: pl.DataFrame | pl.LazyFrame, *, unit: str, policy: Policy) -> Count:
    """One protected count of distinct units (0 when there are no rows)."""
    frame = protected_counts(rows, [], unit=unit, policy=policy)
    row = frame.row(0, named=True)
    return Count(value=row["n"], label=row["n_label"], is_small=row["n_small"])


def protected_flag_counts(
    rows: pl.DataFrame | pl.LazyFrame,
    flags: Mapping[str, str],
    *,
    unit: str,
    policy: Policy,
) -> pl.DataFrame:
    """Units with each yes/no column true ({label: column}), zeros kept, in `flags` order:
    `label`, `n`, `n_label`, `n_small`."""
    frame = rows.collect() if isinstance(rows, pl.LazyFrame) else rows
    key = KEY_PREFIX + unit
    keep = [unit] + ([key] if key in frame.columns else [])
    long = (
        frame.select(*keep, *[pl.col(c).fill_null(False).alias(label) for label, c in flags.items()])
        .unpivot(index=keep, variable_name="label", value_name="flag")
        .filter(pl.col("flag"))
    )
    counted = protected_counts(long, ["label"], unit=unit, policy=policy)
    order = pl.DataFrame({"label": list(flags), "_order": range(len(flags))})
    return (
        order.join(counted, on="label", how="left")
        .with_columns(
            n=pl.col("n").fill_null(pl.when(pl.col("n_small")).then(None).otherwise(0)),
            n_label=pl.col("n_label").fill_null("0"),
            n_small=pl.col("n_small").fill_null(False),
        )
        .sort("_order")
        .drop("_order")
    )


def protected_at_risk(
    rows: pl.DataFrame | pl.LazyFrame,
    *,
    time: str,
    at: Sequence[float],
    by: Sequence[str] = (),
    unit: str,
    policy: Policy,
) -> pl.DataFrame:
    """Numbers at risk (units with `time` ≥ t) per group and t, as protected counts:
    `by…`, `at`, `n`, `n_label`, `n_small`; zeros kept. At t = 0 the cell holds the
    same units as the group's own count, so both show the same value."""
    frame = rows.collect() if isinstance(rows, pl.LazyFrame) else rows
    by = list(by)
    key = KEY_PREFIX + unit
    keep = [*by, unit, time] + ([key] if key in frame.columns else [])
    targets = pl.DataFrame({"at": [float(t) for t in at]})
    data = frame.select(keep).drop_nulls([time])
    long = data.join(targets, how="cross").filter(pl.col(time) >= pl.col("at"))
    counted = protected_counts(long, [*by, "at"], unit=unit, policy=policy)
    groups = data.select(by).unique() if by else pl.DataFrame()
    grid = groups.join(targets, how="cross") if by else targets
    return (
        grid.join(counted, on=[*by, "at"], how="left")
        .with_columns(
            n=pl.when(pl.col("n_small").fill_null(False)).then(None).otherwise(
                pl.col("n").fill_null(0)
            ),
            n_label=pl.col("n_label").fill_null("0"),
            n_small=pl.col("n_small").fill_null(False),
        )
        .sort([*by, "at"])
    )


def percent_text(part: Count, whole: Count, *, digits: int = 0) -> str | None:
    """'42%' from two shown counts; None when either is hidden or the whole is 0."""
    if part.value is None or whole.value is None or whole.value == 0:
        return None
    return f"{100 * part.value / whole.value:.{digits}f}%"


# --- curves and rates -------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupGate:
    allowed: list[str]
    refused: dict[str, str] = field(default_factory=dict)  # group → why (no exact count)


def gate_groups(
    rows: pl.DataFrame | pl.LazyFrame,
    group: str | None,
    *,
    unit: str,
    policy: Policy,
    event: str | None = None,
    order: Sequence[str] | None = None,
) -> GroupGate:
    """Which groups may have a curve or a rate. Aggregate role: at least `min_group` units
    and (with `event`) no event count from 1 to threshold−1, since each step of a curve is
    an event. Exact-count roles: every group with a unit. Reasons never give a count."""
    frame = rows.collect() if isinstance(rows, pl.LazyFrame) else rows
    label = pl.col(group).cast(pl.String).fill_null("unknown") if group else pl.lit("all")
    sizes = frame.group_by(label.alias("_group")).agg(
        _n=pl.col(unit).n_unique(),
        _events=(
            pl.col(unit).filter(pl.col(event).cast(pl.Int64) > 0).n_unique()
            if event
            else pl.lit(0, pl.UInt32)
        ),
    )
    allowed, refused = [], {}
    names = sizes["_group"].to_list()
    known = [g for g in (order or []) if g in names]
    ordered = known + sorted(set(names) - set(known), key=lambda g: (g == "unknown", g))
    by_group = dict(zip(sizes["_group"], zip(sizes["_n"], sizes["_events"], strict=True),
                        strict=True))
    for name in ordered:  # one entry per group, not per row
        n, events = by_group[name]
        if not policy.perturb:
            allowed.append(name)
        elif n < policy.min_group:
            refused[name] = f"fewer than {policy.min_group} {unit_words(unit)}"
        elif event and 0 < events < policy.threshold:
            refused[name] = f"fewer than {policy.threshold} events"
        else:
            allowed.append(name)
    return GroupGate(allowed=allowed, refused=refused)


def unit_words(unit: str) -> str:
    return {"episode_id": "episodes", "patient_id": "patients"}.get(
        unit, unit.removesuffix("_id").replace("_", " ") + "s"
    )


def gate_message(gate: GroupGate, *, what: str = "curve") -> str | None:
    """'No curve for: a (fewer than 20 episodes); b (...)', or None when nothing refused."""
    if not gate.refused:
        return None
    parts = "; ".join(f"{g} ({why})" for g, why in gate.refused.items())
    return f"Too small to show a {what}: {parts}."
