"""The one SQL-safety module: read-only queries on the published DuckDB files.

Used by `oligo sql`, `oligo survival` and the dashboards. Several independent layers, so
that a gap in one is caught by another:

1. Statement allow-list: every statement of the text is classified with
   `extract_statements()` on a checker connection that never had file access (external
   access off, extension autoload/autoinstall off and the configuration locked at connect
   time: `IMPORT DATABASE '<dir>'` would otherwise read `<dir>/schema.sql` while being
   parsed, before any other layer applies); only SELECT-type statements pass (this covers
   `SELECT`, `WITH ... SELECT`, `VALUES`, `FROM t`, `DESCRIBE`, `SHOW`, `SUMMARIZE` and the
   read-only `PRAGMA table_info` family, which DuckDB rewrites to table functions). Exactly
   one statement per call, so `SELECT 1; DROP TABLE x` is refused before anything runs.
   EXPLAIN is refused: `EXPLAIN ANALYZE` executes its statement.
2. The connection: the published file opened `read_only`, the ops file ATTACHed
   READ_ONLY, then `enable_external_access=false` (no file reads or writes, no ATTACH,
   no COPY), extension autoload/autoinstall off, a memory limit, limited threads, a private
   temporary folder outside `published/` with a size cap (a big DISTINCT would otherwise
   spill into `published/<file>.tmp/`), and finally `lock_configuration=true` so no
   SET/PRAGMA can undo any of it. A query beyond the memory or spill cap stops with one
   line (QueryTooLarge).
3. A row limit (the query is wrapped as a relation and limited, one extra row tells
   whether it was truncated) and a timeout: DuckDB has no statement timeout, so a timer
   thread calls `connection.interrupt()`.

With the DuckLake target (docs/deployment.md) a published database is a snapshot address
`ducklake:snapshot/<id>`; `open_read_only` hands it to `pipelines.lake.read.open_snapshot`,
which applies the same layers (only the lake's data folder readable), and `check_statement`
also refuses names that reach the catalog server (`pipelines/lake/guard.py`).

Connections are opened per query and always closed: DuckDB caches one database instance
per path in a process, so a kept connection would pin an old published file (see
docs/statistics.md and the stack notes). Cache data, not connections.

A user FILTER (a boolean expression over one table's columns) is never spliced into a
query unchecked: `check_filter` parses `SELECT * FROM <placeholder> WHERE (<filter>)` with
DuckDB's own parser (`json_serialize_sql`), refuses anything but that exact shape, any
subquery, and any column that is not a column of the table; `filtered_relation` then applies
it with the relational API (`relation.filter`) on the locked connection.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.sql_quoting import quote_ident as _quote_identifier
from pipelines.sql_quoting import quote_literal as _quote_literal

OPS_CATALOG = "published_ops"  # alias of the attached published/ops.duckdb
OPS_SCHEMAS = ("ops", "dq")
_FILTER_PLACEHOLDER = "__oligo_filter_target__"

# Expression node classes a filter may contain (DuckDB's parsed-expression classes).
# SUBQUERY, WINDOW, PARAMETER, STAR and anything unknown are refused.
_FILTER_EXPRESSION_CLASSES = frozenset(
    {
        "BETWEEN",
        "CASE",
        "CAST",
        "COLLATE",
        "COLUMN_REF",
        "COMPARISON",
        "CONJUNCTION",
        "CONSTANT",
        "FUNCTION",
        "OPERATOR",
    }
)


class QueryRefused(Exception):
    """A query or filter was refused; `str(exc)` says why in plain words."""


class QueryTimedOut(QueryRefused):
    """The query ran longer than the time limit and was interrupted."""


class QueryTooLarge(QueryRefused):
    """The query needed more memory (and temporary disk) than the limits allow."""


@dataclass(frozen=True)
class SafetyLimits:
    row_limit: int = 10_000
    timeout_seconds: float = 30.0
    memory_limit: str = "1GB"
    temp_limit: str = "1GB"  # spill to disk, in a private folder outside published/
    threads: int = 2


DEFAULT_LIMITS = SafetyLimits()


@dataclass(frozen=True)
class QueryResult:
    frame: pl.DataFrame
    truncated: bool  # more rows existed than the row limit
    row_limit: int


# Set at connect time, so the connection never had file access (checked by the tests).
CHECKER_CONFIG = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}


@contextlib.contextmanager
def checker_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection for parsing only: no file system, no extensions, locked."""
    con = duckdb.connect(":memory:", config=CHECKER_CONFIG)
    try:
        yield con
    finally:
        con.close()


def check_statement(sql: str) -> str:
    """Return the single allowed statement in `sql`, or raise QueryRefused saying why."""
    try:
        with checker_connection() as checker:
            statements = checker.extract_statements(sql)
    except duckdb.PermissionException:
        raise QueryRefused("the query would read or write files; only read-only queries on "
                           "the published tables are allowed") from None
    except duckdb.Error as exc:
        raise QueryRefused(f"the query is not valid SQL: {exc}") from exc
    if not statements:
        raise QueryRefused("the query is empty")
    if len(statements) > 1:
        raise QueryRefused(
            f"only one statement per query is allowed, found {len(statements)}"
        )
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        raise QueryRefused(
            f"only read-only queries (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE) are allowed; "
            f"this is a {statement.type.name} statement"
        )
    _refuse_catalog_access(sql)
    return sql


def _refuse_catalog_access(sql: str) -> None:
    """DuckLake hook: names that reach the catalog server or run SQL text (pipelines.lake)."""
    from pipelines.lake.guard import refused_identifier

    name = refused_identifier(sql)
    if name is not None:
        raise QueryRefused(f"{name} is not allowed: it reaches the catalog server or runs "
                           "SQL built from text")


def published_database(batch_id: str | None = None) -> Path:
    """The published marts file: `current`, or the frozen snapshot of `batch_id`.

    A batch id is a file name, never a path: anything with a separator or a leading dot is
    refused, so `--batch ../../x` cannot reach another file. A frozen file is offered only
    once the published ops file says its batch was published (`offered_snapshots`): a run
    killed between its two swaps leaves a frozen file that is not yet offered.
    """
    from pipelines.publish import offered_snapshots
    from pipelines.settings import paths  # read OLIGO_HOME on call, not at import

    if batch_id is not None and (not batch_id or "/" in batch_id or "\\" in batch_id
                                 or batch_id.startswith(".")):
        raise QueryRefused(f"{batch_id!r} is not a batch id")
    if _lake_target():  # DuckLake hook: a snapshot address instead of a file
        from pipelines.lake.read import published_address

        return published_address(batch_id)
    if batch_id is None:
        return paths().current
    snapshot = paths().batch_snapshot(batch_id)
    if snapshot.is_file() and batch_id not in offered_snapshots(paths().batches, paths().ops):
        raise QueryRefused(f"batch {batch_id} is not published (its run did not finish "
                           "publishing); `oligo status` shows its state")
    return snapshot


def _lake_target() -> bool:
    from pipelines.lake.config import LakeMisconfigured, target_is_ducklake

    try:
        return target_is_ducklake()
    except LakeMisconfigured as exc:
        raise QueryRefused(str(exc)) from exc


def published_ops_database() -> Path:
    from pipelines.settings import paths

    return paths().ops


@contextlib.contextmanager
def open_read_only(
    database: Path,
    *,
    ops_database: Path | None = None,
    limits: SafetyLimits = DEFAULT_LIMITS,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A locked-down read-only connection to a published file, closed on exit.

    With `ops_database`, that file is attached read-only as `published_ops` and its schemas
    `ops` and `dq` are put on the search path, so `ops.runs` and `dq.check_results` resolve
    next to `marts.*` and `meta.*`.
    """
    from pipelines.lake.read import open_snapshot, snapshot_of

    if (snapshot := snapshot_of(database)) is not None:  # DuckLake hook: a lake snapshot
        with open_snapshot(snapshot, ops_database=ops_database, limits=limits) as con:
            yield con
        return
    database = Path(database)
    if not database.is_file():
        raise QueryRefused(f"no published database at {database}")
    spill = Path(tempfile.mkdtemp(prefix="oligo-sql-"))  # private, outside published/
    try:
        con = duckdb.connect(
            str(database),
            read_only=True,
            config={
                "autoload_known_extensions": False,
                "autoinstall_known_extensions": False,
                "allow_community_extensions": False,
                "memory_limit": limits.memory_limit,
                "temp_directory": str(spill),
                "max_temp_directory_size": limits.temp_limit,
                "threads": limits.threads,
            },
        )
    except duckdb.Error as exc:
        shutil.rmtree(spill, ignore_errors=True)
        raise QueryRefused(f"the published database cannot be opened: {exc}") from exc
    try:
        # Paths and names come from our own settings, quoted; ATTACH takes no parameters.
        search_path = [f"{_quote_identifier(_catalog_name(con))}.main"]
        if ops_database is not None and Path(ops_database).is_file():
            con.execute(
                f"ATTACH {_quote_literal(str(ops_database))} AS {OPS_CATALOG} (READ_ONLY)"
            )
            search_path += [f"{OPS_CATALOG}.{schema}" for schema in OPS_SCHEMAS]
        con.execute(f"SET search_path = {_quote_literal(','.join(search_path))}")
        # Order matters: ATTACH needs file access, so external access goes off after it,
        # and the configuration is locked last.
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield con
    except duckdb.OutOfMemoryException as exc:
        raise QueryTooLarge(
            f"the query needs more than {limits.memory_limit} of memory and "
            f"{limits.temp_limit} of temporary disk; aggregate or filter first") from exc
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _catalog_name(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_database()").fetchone()[0]


@contextlib.contextmanager
def _time_limit(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[None]:
    """Interrupt the connection's running query after `seconds` (DuckDB has no timeout)."""
    fired = threading.Event()

    def interrupt() -> None:
        fired.set()
        con.interrupt()

    timer = threading.Timer(seconds, interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    except duckdb.Error as exc:
        if fired.is_set():
            raise QueryTimedOut(
                f"the query took longer than {seconds:g} s and was stopped"
            ) from exc
        raise
    finally:
        timer.cancel()


def _limited_frame(
    relation: duckdb.DuckDBPyRelation, row_limit: int
) -> tuple[pl.DataFrame, bool]:
    frame = relation.limit(row_limit + 1).pl()
    return frame.head(row_limit), frame.height > row_limit


def run_on_connection(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    *,
    params: Sequence[object] | dict[str, object] | None = None,
    limits: SafetyLimits = DEFAULT_LIMITS,
) -> QueryResult:
    """Run one allowed statement on an already locked connection (see `open_read_only`)."""
    statement = check_statement(sql)
    try:
        with _time_limit(con, limits.timeout_seconds):
            relation = con.sql(statement, params=params)
            if relation is None:  # not a result-producing statement: never expected here
                raise QueryRefused("the statement returned no result")
            frame, truncated = _limited_frame(relation, limits.row_limit)
    except QueryRefused:
        raise
    except duckdb.PermissionException as exc:
        raise QueryRefused(f"the query tried something that is not allowed: {exc}") from exc
    return QueryResult(frame=frame, truncated=truncated, row_limit=limits.row_limit)


def run_query(
    sql: str,
    database: Path,
    *,
    ops_database: Path | None = None,
    params: Sequence[object] | dict[str, object] | None = None,
    limits: SafetyLimits = DEFAULT_LIMITS,
) -> QueryResult:
    """Check `sql`, open `database` read-only and locked, run it with limits, close.

    Raises QueryRefused (or QueryTimedOut) with a plain reason; SQL errors of an allowed
    query (a misspelt column, say) propagate as `duckdb.Error`.
    """
    check_statement(sql)  # refuse before touching any file
    with open_read_only(database, ops_database=ops_database, limits=limits) as con:
        return run_on_connection(con, sql, params=params, limits=limits)


# --- user filters ------------------------------------------------------------------------


def _walk(node: object) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def check_filter(filter_sql: str, columns: Sequence[str]) -> None:
    """Refuse a FILTER that is not one boolean expression over `columns`.

    Parses `SELECT * FROM <placeholder> WHERE (<filter>)` with DuckDB's parser and requires
    exactly that shape: one plain SELECT of the placeholder table, no set operation, no
    ORDER/LIMIT, no CTE, and a WHERE made only of column references, constants, operators,
    comparisons and scalar functions (no subquery, so no other table and no table function
    that reads files). Raises QueryRefused with the reason.
    """
    if not filter_sql or not filter_sql.strip():
        raise QueryRefused("the filter is empty")
    wrapped = f"SELECT * FROM {_FILTER_PLACEHOLDER} WHERE ({filter_sql})"
    try:
        check_statement(wrapped)  # several statements (`x = 1); DROP ...`) are refused here
    except QueryRefused as exc:
        raise QueryRefused(f"the filter is not one boolean expression: {exc}") from exc
    with checker_connection() as parser:
        parsed = json.loads(
            parser.execute("SELECT json_serialize_sql(?)", [wrapped]).fetchone()[0]
        )
    if parsed.get("error"):
        raise QueryRefused(f"the filter is not valid SQL: {parsed.get('error_message')}")
    node = parsed["statements"][0]["node"]
    from_table = node.get("from_table") or {}
    if (
        node.get("type") != "SELECT_NODE"
        or node.get("modifiers")
        or node.get("cte_map", {}).get("map")
        or node.get("group_expressions")
        or node.get("having")
        or node.get("qualify")
        or node.get("sample")
        or from_table.get("type") != "BASE_TABLE"
        or from_table.get("table_name") != _FILTER_PLACEHOLDER
        or from_table.get("schema_name")
        or from_table.get("catalog_name")
        or len(node.get("select_list", [])) != 1
        or node["select_list"][0].get("class") != "STAR"
        or node.get("where_clause") is None
    ):
        raise QueryRefused("the filter must be a single boolean expression over the table")
    known = {c.lower() for c in columns}
    for expr in _walk(node["where_clause"]):
        cls = expr.get("class")
        if cls is None:
            continue  # value and type payloads, not expressions
        if cls not in _FILTER_EXPRESSION_CLASSES:
            raise QueryRefused(
                f"the filter may only use columns, constants, operators and functions; "
                f"found a {cls.lower()}"
            )
        if cls == "COLUMN_REF":
            names = expr.get("column_names", [])
            if len(names) != 1 or names[0].lower() not in known:
                raise QueryRefused(
                    f"the filter refers to {'.'.join(names)!r}, which is not a column of the table"
                )


def filtered_relation(
    con: duckdb.DuckDBPyConnection, table: str, filter_sql: str | None
) -> duckdb.DuckDBPyRelation:
    """`table` (a contract/mart name such as `marts.episode_cohort`) with a checked filter."""
    relation = con.table(table)
    if filter_sql is None or not filter_sql.strip():
        return relation
    check_filter(filter_sql, relation.columns)
    try:
        return relation.filter(filter_sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"the filter cannot be applied: {exc}") from exc


def read_table(
    database: Path,
    table: str,
    *,
    filter_sql: str | None = None,
    columns: Sequence[str] | None = None,
    limits: SafetyLimits = DEFAULT_LIMITS,
) -> pl.DataFrame:
    """Rows of `table` matching an optional user filter, read through the locked connection.

    Not row-limited (analyses need every row); the timeout still applies.
    """
    with open_read_only(database, limits=limits) as con:
        relation = filtered_relation(con, table, filter_sql)
        if columns is not None:
            relation = relation.select(*[_quote_identifier(c) for c in columns])
        with _time_limit(con, limits.timeout_seconds):
            return relation.pl()
