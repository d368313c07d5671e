"""Where things live under the data folder (`OLIGO_HOME`, default `./data`).

Read on call, never at import, so tests can point OLIGO_HOME at a temporary folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def exports(self) -> Path:  # what registries deliver: exports/<batch_id>/
        return self.home / "exports"

    @property
    def warehouse(self) -> Path:  # the working warehouse; only the pipeline writes it
        return self.home / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.home / "published"

    @property
    def current(self) -> Path:  # marts of the latest batch by cut-off
        return self.published / "current.duckdb"

    @property
    def batches(self) -> Path:  # each batch's marts, frozen
        return self.published / "batches"

    def batch_snapshot(self, batch_id: str) -> Path:
        return self.batches / f"{batch_id}.duckdb"

    def sensitivity_snapshot(self, batch_id: str, parameter_set: str) -> Path:
        """A batch's marts under non-default clinical parameters (a sensitivity run)."""
        return self.batches / f"{batch_id}.sensitivity-{parameter_set.split(':')[0]}.duckdb"

    @property
    def ops(self) -> Path:  # quarantine, data-quality results, run reports
        return self.published / "ops.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    @property
    def lock_file(self) -> Path:  # one pipeline run at a time
        return self.home / "run.lock"

    @property
    def bench(self) -> Path:
        return self.home / "bench"


def paths() -> Paths:
    return Paths(Path(os.environ.get("OLIGO_HOME", "data")).resolve())


def disable_telemetry() -> None:
    """Telemetry off for Dagster, Great Expectations and Streamlit, whoever starts us."""
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GE_USAGE_STATS", "FALSE")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")


OWNERS_ENV = "OLIGO_ASSET_OWNERS"
DEFAULT_OWNERS = "team:registry-data-management"


def asset_owners() -> list[str]:
    """Owners shown on every asset: `OLIGO_ASSET_OWNERS`, comma-separated e-mail addresses
    or `team:<name>`; read when the code location loads (reload it after a change)."""
    text = os.environ.get(OWNERS_ENV, "") or DEFAULT_OWNERS
    return [owner.strip() for owner in text.split(",") if owner.strip()]


DEFAULT_MEMORY_BUDGET_MB = 4096


def memory_budget_mb() -> int:
    """The run's memory budget in MiB (`OLIGO_MEMORY_BUDGET_MB`, default 4096): DuckDB gets
    a share of it as its memory limit (spilling to disk beyond), and the clinical derivation
    sizes its patient partitions to fit the rest (docs/benchmarks.md, Memory)."""
    raw = os.environ.get("OLIGO_MEMORY_BUDGET_MB", "").strip()
    if not raw:
        return DEFAULT_MEMORY_BUDGET_MB
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"OLIGO_MEMORY_BUDGET_MB must be a whole number of MiB, not {raw!r}") from None
    if value < 256:
        raise ValueError(f"OLIGO_MEMORY_BUDGET_MB must be at least 256 (MiB), not {value}")
    return value


DUCKDB_SHARE_OF_BUDGET = 0.5  # the other half is for Polars frames and Python


def duckdb_memory_limit() -> str:
    """DuckDB's `memory_limit` for the pipeline's connections, from the budget."""
    return f"{int(memory_budget_mb() * DUCKDB_SHARE_OF_BUDGET)}MB"


TRUE_WORDS = ("1", "true", "yes", "on")


def is_true(text: str | None) -> bool:
    """A yes/no setting's text (environment variable or resource field) read as yes."""
    return (text or "").strip().lower() in TRUE_WORDS
