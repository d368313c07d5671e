"""The result of evaluating one check."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.quality.specs import CheckSpec, failing_pct


@dataclass(frozen=True)
class CheckOutcome:
    spec: CheckSpec
    failing_count: int
    total_count: int
    failing_keys: list[tuple[str | None, str | None]] = field(default_factory=list)  # (record, patient)
    seconds: float = 0.0

    @property
    def failing_pct(self) -> float:
        return failing_pct(self.failing_count, self.total_count)

    @property
    def passed(self) -> bool:
        return self.spec.passes(self.failing_count, self.total_count)

    def sample(self, size: int) -> list[str]:
        return [str(record) for record, _ in self.failing_keys[:size]]
