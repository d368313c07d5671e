"""Resources, declared once. Nothing is read from the environment at import: empty settings
resolve from `OLIGO_HOME` when a run starts, and the secret, demo mode and alert settings are
`EnvVar`s that Dagster resolves at launch (values never shown in the UI).

`ENVIRONMENT` lists those variables with the value an unset one stands for;
`declare_environment_defaults()` (called by pipelines/definitions.py) fills in unset ones, so
a missing secret is reported by the run as one line instead of a Dagster config error.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.clinical.parameters import ClinicalParameters
from pipelines.settings import duckdb_memory_limit, is_true, paths
from pipelines.working_snapshot import attach_working_snapshot

SECRET_ENV = "OLIGO_PSEUDONYM_SECRET"
SECRET_FILE_ENV = "OLIGO_PSEUDONYM_SECRET_FILE"
DEMO_ENV = "OLIGO_DEMO_MODE"
WEBHOOK_ENV = "OLIGO_ALERT_WEBHOOK_URL"
SMTP_HOST_ENV = "OLIGO_ALERT_SMTP_HOST"
SMTP_PORT_ENV = "OLIGO_ALERT_SMTP_PORT"
MAIL_FROM_ENV = "OLIGO_ALERT_MAIL_FROM"
MAIL_TO_ENV = "OLIGO_ALERT_MAIL_TO"
ENVIRONMENT = {SECRET_ENV: "", SECRET_FILE_ENV: "", DEMO_ENV: "false", WEBHOOK_ENV: "",
               SMTP_HOST_ENV: "", SMTP_PORT_ENV: "25", MAIL_FROM_ENV: "", MAIL_TO_ENV: ""}


def declare_environment_defaults() -> None:
    for name, value in ENVIRONMENT.items():
        os.environ.setdefault(name, value)


class Warehouse(dg.ConfigurableResource):
    """The working DuckDB warehouse; only pipeline runs write it.

    Run-scoped: for the whole run (the executor is in-process) it holds the run lock, opens
    the run report, and at the end records the outcome and refreshes published/ops.duckdb
    (pipelines/run_record.py), so every launch path leaves the same records."""

    database: str = ""  # empty: <OLIGO_HOME>/warehouse.duckdb
    record_runs: bool = True
    lock_wait_seconds: int = 900  # a run launched while another holds the lock waits

    def path(self) -> Path:
        return Path(self.database) if self.database else paths().warehouse

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Warehouse]:
        if not self.record_runs or context.run is None:  # a sensor or a test harness
            yield self
            return
        from pipelines.gc_tuning import run_collector
        from pipelines.run_record import recorded_run

        with run_collector(), recorded_run(context, self.path(), paths().lock_file,
                                           self.lock_wait_seconds):
            yield self

    @contextlib.contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Bounded by the run's memory budget; beyond it DuckDB spills to its temp folder.
        con = duckdb.connect(str(path), config={"memory_limit": duckdb_memory_limit()})
        try:
            attach_working_snapshot(con)  # staging.* and marts.* live in a file of their own
            yield con
        finally:
            con.close()


class RegistrySource(dg.ConfigurableResource):
    """Where batches arrive, how this source writes its files (its dialect), the
    pseudonymisation secret and demo mode. (A replace is asked for with the run tag
    `oligo/replace=true`: run config given for this resource would reset the EnvVar fields.)"""

    exports_dir: str = ""  # empty: <OLIGO_HOME>/exports
    dialect: str = "default"
    pseudonym_secret: str = ""
    pseudonym_secret_file: str = ""
    demo_mode: str = "false"  # "true" allows the announced demo pseudonym secret

    def exports(self) -> Path:
        return Path(self.exports_dir) if self.exports_dir else paths().exports

    def batch_dir(self, batch_id: str) -> Path:
        """The batch's folder; UnsafeBatchPath when the id or folder leaves exports."""
        from pipelines.ingest.files import batch_folder

        return batch_folder(self.exports(), batch_id)

    @property
    def is_demo(self) -> bool:
        return is_true(self.demo_mode)

    def pseudonymizer(self):
        """The keyed pseudonymiser, its secret checked (docs/privacy.md); MissingSecret or
        WeakSecret (one line) when there is no usable secret."""
        from pipelines.ingest.pseudonym import checked_pseudonymizer, configured_secret

        secret = configured_secret({SECRET_ENV: self.pseudonym_secret,
                                    SECRET_FILE_ENV: self.pseudonym_secret_file})
        return checked_pseudonymizer(secret, self.is_demo)


class ClinicalSettings(dg.ConfigurableResource):
    """Overrides of the clinical parameters for this run (`oligo run --set k=v`)."""

    overrides: dict[str, str] = {}

    def parameters(self) -> ClinicalParameters:
        return ClinicalParameters().with_overrides(dict(self.overrides))


class Notifier(dg.ConfigurableResource):
    """Where alerts go: a webhook (JSON POST) and/or an SMTP server; both optional."""

    webhook_url: str = ""
    smtp_host: str = ""
    smtp_port: str = "25"
    mail_from: str = ""
    mail_to: str = ""

    def send(self, subject: str, body: dict) -> list[str]:
        from pipelines.alerts import notify

        return notify(self, subject, body)


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": Warehouse(),
        "registry": RegistrySource(
            pseudonym_secret=dg.EnvVar(SECRET_ENV),
            pseudonym_secret_file=dg.EnvVar(SECRET_FILE_ENV),
            demo_mode=dg.EnvVar(DEMO_ENV),
        ),
        "clinical_settings": ClinicalSettings(),
        "notifier": Notifier(
            webhook_url=dg.EnvVar(WEBHOOK_ENV), smtp_host=dg.EnvVar(SMTP_HOST_ENV),
            smtp_port=dg.EnvVar(SMTP_PORT_ENV), mail_from=dg.EnvVar(MAIL_FROM_ENV),
            mail_to=dg.EnvVar(MAIL_TO_ENV),
        ),
    }
