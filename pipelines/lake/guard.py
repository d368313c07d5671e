"""What the statement allow-list alone does not stop once a DuckLake is attached.

Found by experiment with DuckDB 1.5.5 (docs/deployment.md, Reader safety): with
`enable_external_access=false` the PostgreSQL extension still answers SELECT-type table
functions: `postgres_query('__ducklake_metadata_lake', '<any SQL>')` runs SQL on the catalog
server as the reader's role, and `postgres_scan('<any connection string>', ...)` reaches any
server the host can. `query()` / `query_table()` run a SQL text built at run time, which
would get past a check of the query's own words. So every identifier of the query is read
with DuckDB's tokenizer (string constants are not identifiers) and these names are refused.
"""

from __future__ import annotations

import re

import duckdb

REFUSED_PREFIXES = ("postgres_", "__ducklake_metadata", "ducklake_")
REFUSED_NAMES = frozenset({"query", "query_table", "read_postgres_binary",
                           "json_execute_serialized_sql"})
_BARE = re.compile(r"[^\s\"().,;:\[\]{}*+\-/<>=!|&%^~@#?']+")


def refused_identifier(sql: str) -> str | None:
    """The first identifier of `sql` that reaches the catalog server or runs SQL text."""
    tokens = duckdb.tokenize(sql)
    for (start, kind), following in zip(tokens, [*tokens[1:], (len(sql), None)], strict=True):
        if kind != duckdb.token_type.identifier:
            continue
        name = _identifier_text(sql[start:following[0]]).lower()
        if name in REFUSED_NAMES or name.startswith(REFUSED_PREFIXES):
            return name
    return None


def _identifier_text(text: str) -> str:
    text = text.strip()
    if text.startswith('"'):
        end = 1
        while end < len(text):
            if text[end] == '"':
                if text[end + 1:end + 2] == '"':
                    end += 2
                    continue
                break
            end += 1
        return text[1:end].replace('""', '"')
    match = _BARE.match(text)
    return match.group(0) if match else text
