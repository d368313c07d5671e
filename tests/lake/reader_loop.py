"""One reader process of the concurrency test: reads the newest snapshot over and over while
another process publishes, and checks that every table of what it read belongs to one and
the same complete batch.

    python -m tests.lake.reader_loop EXPECTED_JSON STOP_FILE RESULT_FILE

EXPECTED_JSON maps batch id → {table: row count} (from the embedded frozen files). Each round
does two reads: the newest snapshot through `pipelines.safe_sql` (pinned by snapshot id,
the readers' path), and a plain read-only attach of whatever is newest at attach time.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pipelines import safe_sql
from pipelines.lake.catalog import lake_connection
from pipelines.lake.config import lake_target
from pipelines.lake.read import list_snapshots, snapshot_address


def check_sql(tables: list[str]) -> str:
    counts = ", ".join(f'(SELECT count(*) FROM {t}) AS "{t}"' for t in tables)
    return f"SELECT (SELECT batch_id FROM meta.provenance) AS batch_id, {counts}"


def compare(row: dict, expected: dict[str, dict[str, int]]) -> str | None:
    batch = row.pop("batch_id")
    if batch not in expected:
        return f"unknown batch {batch!r}"
    wrong = {t: (n, expected[batch][t]) for t, n in row.items() if n != expected[batch][t]}
    return f"batch {batch}: counts (seen, expected) {wrong}" if wrong else None


def main(expected_path: str, stop_file: str, result_file: str) -> int:
    expected = json.loads(Path(expected_path).read_text())
    tables = sorted(next(iter(expected.values())))
    sql = check_sql(tables)
    reads, errors, messages, snapshots, batches = 0, 0, [], set(), set()
    started = time.monotonic()
    while not Path(stop_file).exists():
        try:
            newest = list_snapshots()[-1].snapshot_id
            frame = safe_sql.run_query(sql, snapshot_address(newest)).frame
            row = frame.row(0, named=True)
            batches.add(row["batch_id"])
            problem = compare(row, expected)
            snapshots.add(newest)
            reads += 1
            with lake_connection(lake_target()) as con:
                con.execute("USE lake")
                cursor = con.execute(sql)
                names = [d[0] for d in cursor.description]
                row = dict(zip(names, cursor.fetchone(), strict=True))
                snapshots.add(con.execute("FROM lake.current_snapshot()").fetchone()[0])
            batches.add(row["batch_id"])
            problem = problem or compare(row, expected)
            reads += 1
            if problem:
                errors += 1
                messages.append(problem)
        except Exception as exc:  # every failure of a read counts, whatever it is
            errors += 1
            messages.append(f"{type(exc).__name__}: {exc}")
        partial = Path(f"{result_file}.tmp")  # replaced whole: the test reads it meanwhile
        partial.write_text(json.dumps({
            "reads": reads, "errors": errors, "messages": messages[:5],
            "snapshots": sorted(snapshots), "batches": sorted(batches),
            "seconds": round(time.monotonic() - started, 2),
        }))
        partial.replace(result_file)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
