"""`oligo_trim` skips DuckDB's trim only where trim would change nothing: on every kind of
edge (ASCII and Unicode spaces, tabs, accents, empty, NULL) it gives what trim gives."""

import duckdb

from pipelines.ingest.sql_support import prepare_connection

EDGES = ["", " ", "  ", "P001", " P001", "P001 ", "\tP001", "P001\t", "\u00a0P001", "P001\u00a0",
         "\u3000P001\u3000", "\u2009P001", "P001\u202f", "\u1680x", "é", " é ", "Né", "été ",
         "à", "\u00a0", "\u00a0 \u00a0", "a b", "\u2028P001", "P\u00a0001", "x\u0085"]


def test_oligo_trim_is_trim_on_every_edge():
    con = duckdb.connect()
    prepare_connection(con)
    con.execute("CREATE TABLE v (s VARCHAR)")
    con.executemany("INSERT INTO v VALUES (?)", [[e] for e in EDGES] + [[None]])
    differing = con.execute(
        "SELECT s FROM v WHERE oligo_trim(s) IS DISTINCT FROM trim(s) "
        "OR oligo_text(s) IS DISTINCT FROM nullif(trim(s), '')").fetchall()
    assert differing == []
    # The edge cases include values trim changes, so the comparison is not vacuous.
    changed = con.execute("SELECT count(*) FROM v WHERE trim(s) <> s").fetchone()[0]
    assert changed >= 10
