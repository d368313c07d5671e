"""Batch defects: a rule of disposition `batch_refusal` that stops the whole batch.

Messages name the file, the column and the rule; they never contain a value from the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.contract.rules import Disposition, rule


@dataclass(frozen=True)
class BatchDefect:
    rule_id: str
    file: str | None = None
    column: str | None = None
    detail: str = ""  # plain words, never a data value

    def __post_init__(self) -> None:
        assert rule(self.rule_id).disposition is Disposition.BATCH_REFUSAL, self.rule_id

    @property
    def reason(self) -> str:
        base = rule(self.rule_id).reason
        return f"{base} ({self.detail})" if self.detail else base

    def describe(self) -> str:
        where = " ".join(
            part for part in (
                f"file {self.file}" if self.file else "",
                f"column {self.column}" if self.column else "",
            ) if part
        )
        return f"{where or 'batch'}: {self.rule_id}: {self.reason}"


class BatchRefused(Exception):
    """The batch is refused whole; `defects` lists every reason."""

    def __init__(self, defects: list[BatchDefect]) -> None:
        self.defects = list(defects)
        lines = "\n".join(f"  {d.describe()}" for d in self.defects)
        super().__init__(f"batch refused ({len(self.defects)} batch defects):\n{lines}")
