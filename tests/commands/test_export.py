"""`oligo export`: files a fresh DuckDB or pandas session reads with their types."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.cli import main
from tests.stats.published_fixture import BATCH_ID


def test_parquet_export_keeps_types(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "parquet", "--out", str(tmp_path), "--batch", BATCH_ID]) == 0
    assert "wrote" in capsys.readouterr().out
    cohort = pd.read_parquet(tmp_path / "episode_cohort.parquet")
    assert len(cohort) == 101
    assert cohort["all_sites_treated"].dtype == bool
    with duckdb.connect() as con:
        types = dict(con.execute(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))",
            [str(tmp_path / "episode_cohort.parquet")],
        ).fetchall())
    assert types["episode_date"] == "DATE" and types["organs"] == "VARCHAR[]"
    assert json.loads((tmp_path / "provenance.json").read_text())["batch_id"] == BATCH_ID


def test_csv_export_with_dictionary(tmp_path: Path) -> None:
    assert main(["export", "--format", "csv", "--out", str(tmp_path)]) == 0
    with duckdb.connect() as con:
        types = dict(con.execute(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_csv(?))",
            [str(tmp_path / "episode_cohort.csv")],
        ).fetchall())
        assert types["episode_date"] == "DATE" and types["all_sites_treated"] == "BOOLEAN"
        assert con.execute("SELECT count(*) FROM read_csv(?)",
                           [str(tmp_path / "episode_outcomes.csv")]).fetchone()[0] == 101
    dictionary = pd.read_csv(tmp_path / "data_dictionary.csv", keep_default_na=False)
    treated = dictionary[(dictionary.table_name == "episode_cohort")
                         & (dictionary.column_name == "all_sites_treated")]
    assert treated.description.item() == "every counted lesion received radical local therapy"
    organs = dictionary[dictionary.column_name == "organs"]
    assert "';'-separated" in organs.description.item()
    tables = dictionary[dictionary.data_type == "TABLE"].table_name.tolist()
    assert tables == ["episode_cohort", "episode_outcomes", "lesion_outcomes", "patient_followup"]


def test_export_of_missing_batch_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["export", "--out", str(tmp_path), "--batch", "absent"]) == 2
    assert "no published database" in capsys.readouterr().err
