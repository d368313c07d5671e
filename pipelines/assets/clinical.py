"""Clinical derivations as assets: read staging, call the pure Polars rules, write marts.

Which tables each multi-asset writes, their layer, keys and docs come from the one mart
registry (pipelines/marts_catalog.py); each asset gets its own description and kinds."""


import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from pipelines.assets.attributes import DUCKDB, GX, POLARS, source_version
from pipelines.assets.partitions import BATCHES
from pipelines.assets.tables import read_table, table_metadata, write_table
from pipelines.contract import TABLES
from pipelines.faults import fault_point
from pipelines.marts_catalog import (
    EPISODES,
    MARTS_BY_NAME,
    OUTCOMES,
    TREATMENTS,
    built_by,
    table_doc,
)
from pipelines.resources import ClinicalSettings, Warehouse

STAGING_KEYS = [dg.AssetKey(["staging", t.name]) for t in TABLES]
CLINICAL_VERSION = source_version("pipelines/assets/clinical.py", "pipelines/clinical/*.py",
                                  "pipelines/clinical/codesets/*", "pipelines/marts_catalog.py")


def outputs_of(builder: str) -> dict[str, str]:
    """{table: layer} of the tables a builder writes, in registry order."""
    return {m.name: m.layer for m in built_by(builder)}


def specs_of(builder: str, deps: list[dg.AssetKey]) -> list[dg.AssetSpec]:
    specs = []
    for mart in built_by(builder):
        doc = table_doc(mart)
        grain = f" Grain: {doc['grain']}." if doc.get("grain") else ""
        specs.append(dg.AssetSpec(
            list(mart.asset_key), deps=deps, group_name=builder,
            description=f"{mart.layer}.{mart.name}: {doc['description']}{grain} "
                        f"Key: {', '.join(mart.keys)}.",
            kinds={POLARS, DUCKDB, GX} if mart.is_published else {POLARS, DUCKDB},
            code_version=CLINICAL_VERSION,
            metadata={"keys": ", ".join(mart.keys)},
        ))
    return specs


EPISODE_OUTPUTS = outputs_of(EPISODES)
TREATMENT_OUTPUTS = outputs_of(TREATMENTS)
OUTCOME_OUTPUTS = outputs_of(OUTCOMES)
EPISODE_KEYS = [dg.AssetKey([layer, name]) for name, layer in EPISODE_OUTPUTS.items()]
TREATMENT_KEYS = [dg.AssetKey([layer, name]) for name, layer in TREATMENT_OUTPUTS.items()]


def read_staging(con, batch_id: str) -> dict[str, pl.LazyFrame]:
    """Staging as known at the batch's cut-off (nothing dated after it is used)."""
    from pipelines.clinical.cutoff import staging_at_cutoff

    staging = {t.name: read_table(con, "staging", t.name) for t in TABLES}
    return staging_at_cutoff(staging, data_cutoff_date(con, batch_id))


def opted_out_patients(con, batch_id: str) -> int:
    """Patients the ingest removed because they objected (`raw.opt_out_exclusions`; 0 when
    an older warehouse has no such table)."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema "
                         "= 'raw' AND table_name = 'opt_out_exclusions'").fetchone()[0]
    if not exists:
        return 0
    return int(con.execute("SELECT coalesce(sum(n_patients_excluded), 0) FROM "
                           "raw.opt_out_exclusions WHERE batch_id = ?", [batch_id]).fetchone()[0])


def _write_all(con, outputs: dict[str, pl.LazyFrame], layers: dict[str, str], params):
    frames = pl.collect_all([outputs[name] for name in layers])
    for (name, layer), frame in zip(layers.items(), frames, strict=True):
        write_table(con, layer, name, frame)
        columns = table_doc(MARTS_BY_NAME[name], params)["columns"]
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey([layer, name]),
            metadata=table_metadata(con, layer, name, columns),
        )


@dg.multi_asset(
    specs=specs_of(EPISODES, STAGING_KEYS),
    partitions_def=BATCHES,
    description="ESTRO/EORTC 2020 episodes and EORTC-LCG 2019 flag (clinical-rules 1-4).",
)
def oligometastatic_episodes(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    clinical_settings: ClinicalSettings,
):
    from pipelines.clinical.episodes import derive_episodes

    fault_point("derive")
    params = clinical_settings.parameters()
    with warehouse.get_connection() as con:
        outputs = derive_episodes(read_staging(con, context.partition_key), params,
                                  opted_out_patients(con, context.partition_key))
        yield from _write_all(con, outputs, EPISODE_OUTPUTS, params)




def read_outputs(con, layers: dict[str, str]) -> dict[str, pl.LazyFrame]:
    return {name: read_table(con, layer, name) for name, layer in layers.items()}


def data_cutoff_date(con, batch_id: str):
    row = con.execute("SELECT data_cutoff_date FROM ops.batches WHERE batch_id = ?",
                      [batch_id]).fetchone()
    if not row or row[0] is None:
        raise RuntimeError(f"batch {batch_id} has no data cut-off date recorded")
    return row[0]


@dg.multi_asset(
    specs=specs_of(TREATMENTS, STAGING_KEYS + EPISODE_KEYS),
    partitions_def=BATCHES,
    description="Dose and BED, LCT of each episode, lines of therapy, the analysis table "
    "(clinical-rules 5 and 6).",
)
def treatments(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    clinical_settings: ClinicalSettings,
):
    from pipelines.clinical.cohort import build_episode_cohort
    from pipelines.clinical.lct import derive_episode_lct
    from pipelines.clinical.lines import derive_therapy_lines
    from pipelines.clinical.local_therapy import derive_local_treatments

    params = clinical_settings.parameters()
    with warehouse.get_connection() as con:
        staging = read_staging(con, context.partition_key)
        episodes = read_outputs(con, EPISODE_OUTPUTS)
        local = derive_local_treatments(staging, params)
        lines = derive_therapy_lines(staging["systemic_therapies"], params)
        local_df, lines_df = pl.collect_all([local, lines])
        lct = derive_episode_lct(episodes["omd_episodes"], episodes["episode_lesions"],
                                 local_df.lazy(), params).collect()
        cohort = build_episode_cohort(
            staging, episodes["omd_episodes"], episodes["nsclc_population"],
            episodes["episode_lesions"], lct.lazy(), lines_df.lazy(), params)
        outputs = {"local_treatments": local_df.lazy(), "therapy_lines": lines_df.lazy(),
                   "episode_lct": lct.lazy(), "episode_cohort": cohort}
        yield from _write_all(con, outputs, TREATMENT_OUTPUTS, params)


@dg.multi_asset(
    specs=specs_of(OUTCOMES, STAGING_KEYS + EPISODE_KEYS + TREATMENT_KEYS),
    partitions_def=BATCHES,
    description="OS, PFS, widespread progression, next treatment, local control, toxicity, "
    "follow-up, censored at the batch cut-off (clinical-rules 6).",
)
def outcomes(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    clinical_settings: ClinicalSettings,
):
    from pipelines.clinical.followup import derive_patient_followup
    from pipelines.clinical.outcomes import derive_episode_outcomes, derive_lesion_outcomes
    from pipelines.clinical.toxicity import derive_toxicity_summary

    params = clinical_settings.parameters()
    with warehouse.get_connection() as con:
        cutoff = data_cutoff_date(con, context.partition_key)
        staging = read_staging(con, context.partition_key)
        ep = read_outputs(con, EPISODE_OUTPUTS)
        tr = read_outputs(con, TREATMENT_OUTPUTS)
        outputs = {
            "episode_outcomes": derive_episode_outcomes(
                staging, ep["omd_episodes"], ep["episode_lesions"], ep["disease_assessments"],
                tr["episode_lct"], tr["therapy_lines"], cutoff, params),
            "lesion_outcomes": derive_lesion_outcomes(
                staging, tr["local_treatments"], cutoff, params),
            "toxicity_summary": derive_toxicity_summary(staging, cutoff, params),
            "patient_followup": derive_patient_followup(
                staging["patients"], ep["omd_episodes"], cutoff),
        }
        yield from _write_all(con, outputs, OUTCOME_OUTPUTS, params)
