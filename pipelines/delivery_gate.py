"""The re-delivery decision: load, unchanged or refused. One function for the `ops/delivery`
asset (inside every Dagster run) and for `oligo run`'s check before Dagster starts, so both
decide alike. No Dagster here."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.settings import paths


def frozen_snapshot(batch_id: str, parameter_set: str) -> Path:
    where = paths()
    if parameter_set == "default":
        return where.batch_snapshot(batch_id)
    return where.sensitivity_snapshot(batch_id, parameter_set)


def published_parameter_set(snapshot: Path) -> str | None:
    if not snapshot.exists():
        return None
    with duckdb.connect(str(snapshot), read_only=True) as con:
        row = con.execute("SELECT parameter_set FROM meta.provenance").fetchone()
    return row[0] if row else None


def decide(existing: dict | None, signature: str, same_parameters_published: bool,
           replace: bool, batch_id: str) -> tuple[str, str]:
    """('load' | 'unchanged' | 'refused', message)."""
    was_published = bool(existing and existing.get("published_at"))
    same_content = bool(existing) and existing["signature"] == signature
    if same_content and same_parameters_published and not replace:
        return "unchanged", "identical batch already published; nothing changed"
    if was_published and not same_content and not replace:
        return "refused", (f"batch {batch_id} was loaded before with different checksums; "
                           "refused (use --replace to replace it)")
    return "load", "replacing the published batch" if was_published and replace else "new batch"


def same_parameters_published(existing: dict | None, batch_id: str, parameter_set: str) -> bool:
    """The batch was published, and its frozen file holds these parameters."""
    return bool(existing and existing.get("published_at")) and (
        published_parameter_set(frozen_snapshot(batch_id, parameter_set)) == parameter_set)
