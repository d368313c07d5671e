"""Dagster asset checks from the catalogue: one `@multi_asset_check` per asset.

GX 1.x has no maintained Dagster integration (dagster-ge targets GX < 1), hence this small
factory. Each check yields an `AssetCheckResult` with its severity and metadata (threshold,
Kahn category/subcategory, failing count and %, a sample of failing keys); blocking checks
are declared `blocking=True`, so a failure stops the assets downstream (the marts, the
publication) while `dq.check_results` already holds why.

The batch under check is read from the run tag `oligo/batch_id` (set by pipelines/runner.py),
else from the run's partition key; without either, quarantine counts cover every batch in
`ops.quarantine`.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.marts_catalog import MARTS_BY_NAME
from pipelines.quality.catalog import all_checks
from pipelines.quality.evaluate import evaluate_checks
from pipelines.quality.history import record_outcomes
from pipelines.quality.outcome import CheckOutcome
from pipelines.quality.relations import Relations, default_relations
from pipelines.quality.specs import CheckSpec, Severity
from pipelines.quality.thresholds import DEFAULT_THRESHOLDS, QualityThresholds

BATCH_TAG = "oligo/batch_id"
WAREHOUSE_RESOURCE = "warehouse"
# How results reach Dagster: one per check, or one per asset and severity summarising its
# checks (`dq.check_results` holds one row per check either way). Each Dagster result is
# a few events in the instance's event log; on the SQLite event log that is ~0.1 s per check
# on the project machine, more than evaluating the check (docs/data-quality.md, Speed).
PER_CHECK = "check"
PER_ASSET = "asset"
# SQL check statements run at once: the project machine has two cores, and most statements
# are too small for DuckDB to use both.
CHECK_WORKERS = 2


def _check_spec(spec: CheckSpec) -> AssetCheckSpec:
    return AssetCheckSpec(
        name=spec.check_id,
        asset=AssetKey(list(spec.asset)),
        description=spec.description,
        blocking=spec.severity == Severity.BLOCK,
        additional_deps=[AssetKey(list(d)) for d in spec.deps if d != spec.asset],
        metadata={"severity": str(spec.severity), "threshold_pct": spec.threshold_pct,
                  "kahn_category": spec.kahn_category,
                  "kahn_subcategory": spec.kahn_subcategory},
    )


def check_result(outcome: CheckOutcome, batch_id: str | None, sample_size: int
                 ) -> AssetCheckResult:
    spec = outcome.spec
    return AssetCheckResult(
        asset_key=AssetKey(list(spec.asset)),
        check_name=spec.check_id,
        passed=outcome.passed,
        severity=AssetCheckSeverity.ERROR if spec.severity == Severity.BLOCK
        else AssetCheckSeverity.WARN,
        description=spec.description,
        metadata={
            "severity": str(spec.severity),
            "threshold_pct": spec.threshold_pct,
            "kahn_category": spec.kahn_category,
            "kahn_subcategory": spec.kahn_subcategory,
            "failing_count": outcome.failing_count,
            "total_count": outcome.total_count,
            "failing_pct": round(outcome.failing_pct, 4),
            "failing_keys_sample": MetadataValue.json(outcome.sample(sample_size)),
            "batch_id": batch_id or "",
            "rule_id": spec.rule_id or "",
        },
    )


def summary_name(severity: Severity) -> str:
    return f"dq_{severity}_checks"


def _summary_spec(asset: tuple[str, ...], severity: Severity, specs: list[CheckSpec]
                  ) -> AssetCheckSpec:
    deps = {d for s in specs for d in s.deps if d != asset}
    return AssetCheckSpec(
        name=summary_name(severity),
        asset=AssetKey(list(asset)),
        description=f"{len(specs)} {severity} checks of {'/'.join(asset)} "
                    "(one row each in dq.check_results)",
        blocking=severity == Severity.BLOCK,
        additional_deps=[AssetKey(list(d)) for d in sorted(deps)],
        metadata={"severity": str(severity), "checks": len(specs)},
    )


def summary_result(asset: tuple[str, ...], severity: Severity, outcomes: list[CheckOutcome],
                   batch_id: str | None, sample_size: int) -> AssetCheckResult:
    """One result for the checks of one asset and severity: failed when any failed, the
    failing ones named with their counts and sample keys."""
    failed = [o for o in outcomes if not o.passed]
    return AssetCheckResult(
        asset_key=AssetKey(list(asset)),
        check_name=summary_name(severity),
        passed=not failed,
        severity=AssetCheckSeverity.ERROR if severity == Severity.BLOCK
        else AssetCheckSeverity.WARN,
        description=f"{len(failed)} of {len(outcomes)} {severity} checks failing",
        metadata={
            "severity": str(severity),
            "checks": len(outcomes),
            "failing_checks": len(failed),
            "failing": MetadataValue.json([
                {"check_id": o.spec.check_id, "failing_count": o.failing_count,
                 "total_count": o.total_count, "failing_pct": round(o.failing_pct, 4),
                 "threshold_pct": o.spec.threshold_pct, "kahn_category": o.spec.kahn_category,
                 "kahn_subcategory": o.spec.kahn_subcategory,
                 "failing_keys_sample": o.sample(sample_size)}
                for o in failed]),
            "batch_id": batch_id or "",
            "results": MetadataValue.md(results_markdown(outcomes)),
        },
    )


def results_markdown(outcomes: list[CheckOutcome]) -> str:
    """The checks of one result grouped by family (Kahn category), failing ones first."""
    lines = ["| family | check | result | failing | of |", "|---|---|---|---:|---:|"]
    ordered = sorted(outcomes, key=lambda o: (o.spec.kahn_category, o.passed, o.spec.check_id))
    for o in ordered:
        family = f"{o.spec.kahn_category} / {o.spec.kahn_subcategory}"
        verdict = "pass" if o.passed else f"**fail** (> {o.spec.threshold_pct}%)"
        lines.append(f"| {family} | `{o.spec.check_id}` | {verdict} | {o.failing_count} | "
                     f"{o.total_count} |")
    return "\n".join(lines)


def check_group(asset: tuple[str, ...]) -> tuple[str, ...]:
    """Which check op an asset's checks run in. All staging tables share one: a check of one
    table reads others (references, cross-record rules), and Dagster makes a reader wait for
    the blocking checks of what it reads, so per-table ops would wait on each other in a
    cycle. The marts share one too: one multi-asset derives them all
    (`pipelines/assets/clinical.py`), so nothing waits between them, and one op is one
    Dagster step with its own events, not one per mart."""
    if asset[0] == "staging":
        return ("staging",)
    return ("marts",) if asset[-1] in MARTS_BY_NAME else asset


def _asset_check(group: tuple[str, ...], specs: list[CheckSpec], relations: Relations,
                 thresholds: QualityThresholds, resource_key: str,
                 batch_tag: str, results_per: str) -> AssetChecksDefinition:
    where = "/".join(group)
    if results_per == PER_CHECK:
        by_key = {AssetCheckKey(AssetKey(list(s.asset)), s.check_id): [s] for s in specs}
        dagster_specs = [_check_spec(s) for s in specs]
    else:
        by_key = {}
        for s in specs:
            by_key.setdefault(AssetCheckKey(AssetKey(list(s.asset)), summary_name(s.severity)),
                              []).append(s)
        dagster_specs = [_summary_spec(tuple(k.asset_key.path), members[0].severity, members)
                         for k, members in by_key.items()]

    @multi_asset_check(
        name="dq_" + "_".join(group),
        specs=dagster_specs,
        can_subset=True,
        required_resource_keys={resource_key},
        description=f"data-quality checks of {where}",
    )
    def _checks(context):  # AssetCheckExecutionContext (string annotations confuse dagster)
        keys = [k for k in context.selected_asset_check_keys if k in by_key]
        selected = sorted((s for k in keys for s in by_key[k]), key=lambda s: s.check_id)
        batch_id = context.run.tags.get(batch_tag) or (
            context.partition_key if context.has_partition_key else None)
        warehouse = getattr(context.resources, resource_key)
        with warehouse.get_connection() as con:
            # a fresh connection, no open transaction: cursors may run statements at once
            outcomes = evaluate_checks(con, selected, batch_id=batch_id, relations=relations,
                                       max_failing_rows=thresholds.max_failing_rows,
                                       workers=CHECK_WORKERS)
            record_outcomes(con, outcomes, context.run.run_id, batch_id)
        failed = [o.spec.check_id for o in outcomes if not o.passed]
        if failed:
            context.log.warning(f"{len(failed)} failing checks on {where}: "
                                + ", ".join(failed[:20]))
        if results_per == PER_CHECK:
            for outcome in outcomes:
                yield check_result(outcome, batch_id, thresholds.sample_size)
            return
        by_id = {o.spec.check_id: o for o in outcomes}
        for key in sorted(keys, key=lambda k: (k.asset_key.path, k.name)):
            members = by_key[key]
            yield summary_result(tuple(key.asset_key.path), members[0].severity,
                                 [by_id[s.check_id] for s in members], batch_id,
                                 thresholds.sample_size)

    return _checks


def build_asset_checks(
    specs: Sequence[CheckSpec] | None = None,
    *,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
    relations: Relations | None = None,
    resource_key: str = WAREHOUSE_RESOURCE,
    batch_tag: str = BATCH_TAG,
    assets: Sequence[Sequence[str]] | None = None,
    results_per: str = PER_CHECK,
) -> list[AssetChecksDefinition]:
    """Multi-asset checks over `specs` (the whole catalogue by default), limited to the checks
    of `assets` when given: one op for the staging tables, one per other asset.

    `results_per`: `"check"` (one Dagster check and result per catalogue check) or `"asset"`
    (one per asset and severity, `dq_block_checks` blocking and `dq_warn_checks`, naming the
    failing checks in their metadata); every check is evaluated and recorded either way."""
    if results_per not in (PER_CHECK, PER_ASSET):
        raise ValueError(f"results_per must be {PER_CHECK!r} or {PER_ASSET!r}")
    specs = list(specs) if specs is not None else all_checks(params, thresholds)
    relations = relations or default_relations()
    if assets is not None:
        wanted = {tuple(a) for a in assets}
        specs = [s for s in specs if s.asset in wanted]
    groups: dict[tuple[str, ...], list[CheckSpec]] = {}
    for spec in specs:
        groups.setdefault(check_group(spec.asset), []).append(spec)
    return [
        _asset_check(group, group_specs, relations, thresholds, resource_key, batch_tag,
                     results_per)
        for group, group_specs in sorted(groups.items())
    ]


def quality_checks(results_per: str = PER_CHECK) -> list[AssetChecksDefinition]:
    """The checks for pipelines/definitions.py: the whole catalogue with default settings."""
    return build_asset_checks(results_per=results_per)
