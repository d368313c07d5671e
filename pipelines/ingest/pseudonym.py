"""Pseudonymised keys: HMAC-SHA256 of every source id, keyed by a secret kept outside the
repository (registry-export.md section 2: `patient_id` is a registry pseudonym; issue 4 item
5). The mapping is never stored: whoever holds the secret recomputes a key on demand.

The hash is computed in SQL (DuckDB's sha256 on bytes, HMAC built from it as in RFC 2104),
so a whole table is re-keyed set-based; `pseudonym()` is the same function in Python, used by
`oligo pseudonym` and to cross-check the SQL.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from pipelines.contract.tables import Column, Table

SECRET_ENV = "OLIGO_PSEUDONYM_SECRET"
SECRET_FILE_ENV = "OLIGO_PSEUDONYM_SECRET_FILE"
# Announced, public, for synthetic demo data only: pseudonyms made with it protect nothing.
DEMO_SECRET = "oligo-demo-secret-not-for-real-data"
KEY_HEX_CHARS = 20  # 80 bits: collisions negligible for any registry size
_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104)


class MissingSecret(RuntimeError):
    pass


@dataclass(frozen=True)
class Pseudonymizer:
    secret: bytes
    is_demo: bool = False

    def _padded_key(self) -> bytes:
        key = hashlib.sha256(self.secret).digest() if len(self.secret) > _BLOCK else self.secret
        return key.ljust(_BLOCK, b"\0")

    @property
    def inner_pad(self) -> bytes:
        return bytes(b ^ 0x36 for b in self._padded_key())

    @property
    def outer_pad(self) -> bytes:
        return bytes(b ^ 0x5C for b in self._padded_key())

    def pseudonym(self, namespace: str, source_id: str) -> str:
        message = f"{namespace}:{source_id.strip()}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:KEY_HEX_CHARS]


def load_pseudonymizer(demo: bool = False) -> Pseudonymizer:
    """The secret from `OLIGO_PSEUDONYM_SECRET`, or the file named by
    `OLIGO_PSEUDONYM_SECRET_FILE`; the demo secret only in demo mode (announced on stderr)."""
    value = os.environ.get(SECRET_ENV, "")
    if value:
        return Pseudonymizer(value.encode())
    file_name = os.environ.get(SECRET_FILE_ENV, "")
    if file_name:
        path = Path(file_name)
        if not path.is_file():
            raise MissingSecret(f"{SECRET_FILE_ENV} names a file that does not exist")
        content = path.read_bytes().strip()
        if not content:
            raise MissingSecret(f"the file named by {SECRET_FILE_ENV} is empty")
        return Pseudonymizer(content)
    if demo:
        print("demo mode: pseudonyms use the public demo secret; never use it for real data",
              file=sys.stderr)
        return Pseudonymizer(DEMO_SECRET.encode(), is_demo=True)
    raise MissingSecret(
        f"no pseudonymisation secret: set {SECRET_ENV} or {SECRET_FILE_ENV} (a file outside "
        "the repository), or run in demo mode"
    )


def id_namespace(table: Table, column: Column) -> str | None:
    """The entity whose ids this column holds, or None when it holds no id.

    Ids are the table's text key columns and every reference; a reference uses its target's
    namespace, so a lesion id keys the same in metastases, disease_events and targets."""
    if column.references is not None:
        return column.references.key_column
    if column.name in table.key and column.type == "text":
        return column.name
    return None


def id_columns(table: Table) -> dict[str, str]:
    """Column name -> namespace for every id column of the table."""
    return {c.name: ns for c in table.columns if (ns := id_namespace(table, c)) is not None}


def hmac_sql(value_sql: str, namespace_param: str) -> str:
    """SQL expression: truncated hex HMAC-SHA256 of `namespace:trim(value)`; NULL/blank stay
    NULL. Expects bound parameters `$inner_pad`, `$outer_pad` and `$<namespace_param>`."""
    message = f"encode(${namespace_param} || ':' || trim({value_sql}))"
    digest = f"sha256($outer_pad || unhex(sha256($inner_pad || {message})))"
    return (f"CASE WHEN nullif(trim({value_sql}), '') IS NULL THEN NULL "
            f"ELSE left({digest}, {KEY_HEX_CHARS}) END")
