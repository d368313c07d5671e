"""The pinned stack works together: duckdb 1.x with the dagster-duckdb-polars IO manager
(duckdb 2.x breaks its input loading), and telemetry is off everywhere."""

import os
import subprocess
import sys

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb_polars import DuckDBPolarsIOManager

from pipelines.dagster_home import ensure_dagster_home


def test_duckdb_is_major_1():
    # Files written by duckdb 2.x cannot be opened by 1.x: one major everywhere.
    assert duckdb.__version__.split(".")[0] == "1"


def test_polars_io_manager_writes_and_loads_inputs(tmp_path):
    @dg.asset
    def upstream() -> pl.DataFrame:
        return pl.DataFrame({"patient_id": ["a", "b", "c"], "n_lesions": [1, 3, 7]})

    @dg.asset
    def downstream(upstream: pl.DataFrame) -> pl.DataFrame:
        return upstream.filter(pl.col("n_lesions") <= 5)

    database = tmp_path / "io.duckdb"
    result = dg.materialize(
        [upstream, downstream],
        resources={"io_manager": DuckDBPolarsIOManager(database=str(database), schema="s")},
    )
    assert result.success
    assert result.output_for_node("downstream")["patient_id"].to_list() == ["a", "b"]
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.sql("select count(*) from s.downstream").fetchone()[0] == 2


def test_dagster_home_disables_telemetry(tmp_path):
    home = ensure_dagster_home(tmp_path / "dagster_home")
    assert "enabled: false" in (home / "dagster.yaml").read_text()


def test_cli_disables_telemetry_for_every_tool(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DAGSTER_DISABLE_TELEMETRY", "GE_USAGE_STATS",
                        "STREAMLIT_BROWSER_GATHER_USAGE_STATS")}
    code = ("from pipelines.settings import disable_telemetry; import os; disable_telemetry();"
            "print(os.environ['DAGSTER_DISABLE_TELEMETRY'], os.environ['GE_USAGE_STATS'],"
            "os.environ['STREAMLIT_BROWSER_GATHER_USAGE_STATS'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["1", "FALSE", "false"]


def test_streamlit_config_turns_off_usage_stats():
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).parent.parent / ".streamlit/config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["address"] == "127.0.0.1"


def test_the_code_passes_ruff():
    """The lint configuration in pyproject.toml holds for the whole code base."""
    from pathlib import Path

    root = Path(__file__).parent.parent
    ruff = Path(sys.executable).parent / "ruff"
    out = subprocess.run([str(ruff), "check", "pipelines", "dashboards", "tests"], cwd=root,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
