"""Mapping a file's header to the contract's column names (dialect header aliases) and the
batch defects a header can carry (docs/data-dictionary.md)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pipelines.contract.dialects import Dialect
from pipelines.contract.tables import Table
from pipelines.ingest.defects import BatchDefect
from pipelines.ingest.identifiers import identifier_column_kind


@dataclass(frozen=True)
class HeaderMapping:
    columns: tuple[str, ...]  # contract name (or normalised unknown name) per file position
    defects: tuple[BatchDefect, ...]

    @property
    def ok(self) -> bool:
        return not self.defects


def normalise_header_name(name: str) -> str:
    return name.replace("\ufeff", "").strip().lower()


def map_header(names: list[str], table: Table, dialect: Dialect, file: str) -> HeaderMapping:
    aliases = {normalise_header_name(k): v for k, v in dialect.alias_map(table.name).items()}
    mapped = [aliases.get(n, n) for n in (normalise_header_name(n) for n in names)]
    known = set(table.column_names)
    defects: list[BatchDefect] = []
    for name, count in Counter(mapped).items():
        if count > 1:
            defects.append(BatchDefect("duplicate_column", file, name))
    for name in mapped:
        if name in known:
            continue
        # A column named like an identifier is refused as one, before it is merely unknown.
        kind = identifier_column_kind(name)
        if kind is not None:
            defects.append(BatchDefect("direct_identifier", file, name, f"named like {kind}"))
        else:
            defects.append(BatchDefect("unknown_column", file, name))
    present = set(mapped)
    for column in table.columns:
        if column.required and column.name not in present:
            defects.append(BatchDefect("missing_required_column", file, column.name))
    return HeaderMapping(tuple(mapped), tuple(defects))
