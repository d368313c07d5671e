"""Resources, declared once. Nothing is read from the environment at import: empty
settings resolve from `OLIGO_HOME` when a run starts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.clinical.parameters import ClinicalParameters
from pipelines.run_lock import run_lock
from pipelines.settings import paths


class Warehouse(dg.ConfigurableResource):
    """The working DuckDB warehouse; only pipeline runs write it."""

    database: str = ""  # empty: <OLIGO_HOME>/warehouse.duckdb

    def path(self) -> Path:
        return Path(self.database) if self.database else paths().warehouse

    @contextlib.contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path))
        try:
            yield con
        finally:
            con.close()


class RegistrySource(dg.ConfigurableResource):
    """Where batches arrive and how this source writes its files (its dialect)."""

    exports_dir: str = ""  # empty: <OLIGO_HOME>/exports
    dialect: str = "default"
    demo_mode: bool = False  # allows the announced demo pseudonym secret

    def batch_dir(self, batch_id: str) -> Path:
        base = Path(self.exports_dir) if self.exports_dir else paths().exports
        return base / batch_id


class ClinicalSettings(dg.ConfigurableResource):
    """Overrides of the clinical parameters for this run (`oligo run --set k=v`)."""

    overrides: dict[str, str] = {}

    def parameters(self) -> ClinicalParameters:
        return ClinicalParameters().with_overrides(dict(self.overrides))


class PipelineLock(dg.ConfigurableResource):
    """Holds the run lock for the whole (in-process) run, whoever launched it."""

    lock_file: str = ""

    @contextlib.contextmanager
    def yield_for_execution(self, context) -> Iterator[PipelineLock]:
        with run_lock(Path(self.lock_file) if self.lock_file else paths().lock_file):
            yield self


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": Warehouse(),
        "registry": RegistrySource(),
        "clinical_settings": ClinicalSettings(),
        "pipeline_lock": PipelineLock(),
    }
