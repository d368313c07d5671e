"""Agreement between a generated batch's truth and what the warehouse derives from it.

`python -m pipelines.agreement BATCH_DIR [--truth DIR]` loads the batch through
the ingestion library (pseudonymised with a throw-away key, into an in-memory DuckDB), derives
episodes, local therapy and the episode cohort with the clinical rules (no Dagster), and
prints:
- intended ESTRO/EORTC state (truth `assessments.parquet`) x derived state, matched on patient
  and assessment date (`docs/agreement.md` explains every disagreement);
- the EORTC-LCG flag (intended x derived) on intended synchronous episodes;
- `all_sites_treated` (intended x derived) on matched episodes.

Labels: an intended or derived assessment carries its OMD state (nine states or
`unclassifiable_<reason>`), else its assessment state (`poly`, `not_omd_diffuse`); a patient
outside the NSCLC population carries its population reason; `(none)` means the other side has
no assessment on that date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.clinical.cutoff import staging_at_cutoff
from pipelines.clinical.frames import collect
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.contract.dialects import DEFAULT, Dialect
from pipelines.contract.tables import TABLES
from pipelines.ingest.batch import open_batch
from pipelines.ingest.load import load_raw_table, refuse_if_defective
from pipelines.ingest.pseudonym import Pseudonymizer
from pipelines.ingest.quarantine import find_row_defects
from pipelines.ingest.staging import build_staging_table

NONE = "(none)"
# Pseudonyms for agreement runs only: the data are synthetic, the key is thrown away.
AGREEMENT_PSEUDONYMIZER = Pseudonymizer(b"agreement-synthetic-only")


@dataclass
class Derived:
    """Every frame the agreement and the effect tests need, collected."""

    batch_id: str
    data_cutoff_date: dt.date
    staging: dict[str, pl.DataFrame]
    episodes: dict[str, pl.DataFrame]  # derive_episodes outputs
    local_treatments: pl.DataFrame
    therapy_lines: pl.DataFrame
    episode_lct: pl.DataFrame
    episode_cohort: pl.DataFrame
    seconds: dict[str, float]

    def lazy_staging(self) -> dict[str, pl.LazyFrame]:
        return {name: frame.lazy() for name, frame in self.staging.items()}


def load_staging(batch_dir: Path, dialect: Dialect = DEFAULT,
                 pseudonymizer: Pseudonymizer = AGREEMENT_PSEUDONYMIZER,
                 ) -> tuple[str, dt.date, dict[str, pl.DataFrame]]:
    """The loader's path in memory: open_batch -> load_raw_table -> find_row_defects ->
    build_staging_table; returns batch id, cut-off and every staging table."""
    batch = open_batch(Path(batch_dir), dialect)
    refuse_if_defective(batch)
    with duckdb.connect(":memory:") as con:
        for t in TABLES:
            load_raw_table(con, batch, t.name, pseudonymizer)
        summary = find_row_defects(con, batch.batch_id, dialect)
        if not summary.ok:
            refuse_if_defective(batch, summary.batch_defects)
        for t in TABLES:
            build_staging_table(con, t.name, dialect)
        staging = {t.name: con.sql(f'SELECT * FROM staging."{t.name}"').pl() for t in TABLES}
        cutoff = batch.data_cutoff_date or con.execute(
            "SELECT max(last_contact_date) FROM staging.patients").fetchone()[0]
    return batch.batch_id, cutoff, staging


def derive_marts(batch_dir: Path, params: ClinicalParameters = DEFAULT_PARAMETERS,
                 dialect: Dialect = DEFAULT,
                 pseudonymizer: Pseudonymizer = AGREEMENT_PSEUDONYMIZER) -> Derived:
    """Load a batch and derive episodes, local therapy, lines, LCT and the episode cohort
    with the clinical functions (the same calls as the Dagster assets)."""
    from pipelines.clinical.cohort import build_episode_cohort
    from pipelines.clinical.episodes import derive_episodes
    from pipelines.clinical.lct import derive_episode_lct
    from pipelines.clinical.lines import derive_therapy_lines
    from pipelines.clinical.local_therapy import derive_local_treatments

    seconds = {}
    start = time.perf_counter()
    batch_id, cutoff, staging = load_staging(batch_dir, dialect, pseudonymizer)
    # As the assets read it: nothing dated after the cut-off (docs/clinical-rules.md s. 6).
    cut = staging_at_cutoff({name: frame.lazy() for name, frame in staging.items()}, cutoff)
    staging = collect(cut)
    seconds["load"] = time.perf_counter() - start
    start = time.perf_counter()
    lazy = {name: frame.lazy() for name, frame in staging.items()}
    episodes = collect(derive_episodes(lazy, params))
    seconds["episodes"] = time.perf_counter() - start
    start = time.perf_counter()
    local, lines = pl.collect_all([derive_local_treatments(lazy, params),
                                   derive_therapy_lines(lazy["systemic_therapies"], params)])
    lct = derive_episode_lct(episodes["omd_episodes"].lazy(), episodes["episode_lesions"].lazy(),
                             local.lazy(), params).collect()
    cohort = build_episode_cohort(
        lazy, episodes["omd_episodes"].lazy(), episodes["nsclc_population"].lazy(),
        episodes["episode_lesions"].lazy(), lct.lazy(), lines.lazy(), params).collect()
    seconds["treatments"] = time.perf_counter() - start
    return Derived(batch_id, cutoff, staging, episodes, local, lines, lct, cohort, seconds)




def read_truth(truth_dir: Path, pseudonymizer: Pseudonymizer = AGREEMENT_PSEUDONYMIZER,
               ) -> pl.DataFrame:
    """The truth's assessments with `patient_id` keyed as the loader keys it."""
    truth = pl.read_parquet(Path(truth_dir) / "assessments.parquet")
    ids = truth["patient_id"].unique()
    keyed = pl.DataFrame({
        "source_patient_id": ids,
        "patient_id": [pseudonymizer.pseudonym("patient_id", i) for i in ids.to_list()],
    })
    return truth.rename({"patient_id": "source_patient_id"}).join(
        keyed, on="source_patient_id", how="left")


def _label(population_reason: str, omd_state: str, assessment_state: str) -> pl.Expr:
    return (
        pl.when(pl.col(population_reason).is_not_null() & (pl.col(population_reason) != "nsclc"))
        .then(pl.col(population_reason))
        .otherwise(pl.coalesce(omd_state, assessment_state))
    )


def matched_assessments(truth: pl.DataFrame, derived: Derived) -> pl.DataFrame:
    """Intended and derived assessments full-joined on patient and date: one row per
    assessment of either side, with `intended` and `derived` labels and both sides' facts."""
    population = derived.episodes["nsclc_population"].select("patient_id", "population_reason")
    episodes = derived.episodes["omd_episodes"].select(
        "patient_id", pl.col("episode_date").alias("assessment_date"), "episode_id", "omd_state",
        "is_eortc_som_nsclc", "eortc_failed_criterion")
    side = (
        derived.episodes["disease_assessments"]
        .select("patient_id", "assessment_date", "assessment_kind", "assessment_state",
                "n_lesions", "n_organs", "n_stable_lesions", "progression_count_basis",
                "on_systemic_therapy", "has_progression")
        .join(episodes, on=["patient_id", "assessment_date"], how="full", coalesce=True)
        .join(derived.episode_lct.select("episode_id", "all_sites_treated"), on="episode_id",
              how="left")
    )
    intended = truth.select(
        "patient_id", "source_patient_id", "assessment_date",
        pl.col("population_reason").alias("intended_population_reason"),
        pl.col("assessment_kind").alias("intended_kind"),
        "intended_assessment_state", "intended_omd_state",
        pl.col("n_lesions").alias("intended_n_lesions"),
        pl.col("n_organs").alias("intended_n_organs"),
        pl.col("n_stable_lesions").alias("intended_n_stable_lesions"),
        pl.col("on_systemic_therapy").alias("intended_on_systemic_therapy"),
        pl.col("has_progression").alias("intended_has_progression"),
        "intended_all_sites_treated", "intended_is_eortc_som_nsclc",
        "intended_eortc_failed_criterion",
    )
    matched = (
        intended.join(side, on=["patient_id", "assessment_date"], how="full", coalesce=True)
        .join(population, on="patient_id", how="left")
        .join(truth.select("patient_id", "source_patient_id").unique(), on="patient_id",
              how="left", suffix="_any")
        .with_columns(pl.coalesce("source_patient_id", "source_patient_id_any")
                      .alias("source_patient_id"))
        .drop("source_patient_id_any")
    )
    has_intended = pl.col("intended_kind").is_not_null()
    has_derived = pl.col("assessment_kind").is_not_null() | pl.col("episode_id").is_not_null()
    return matched.with_columns(
        pl.when(has_intended).then(_label("intended_population_reason", "intended_omd_state",
                                          "intended_assessment_state"))
        .otherwise(pl.lit(NONE)).alias("intended"),
        pl.when(pl.col("population_reason").is_not_null()
                & (pl.col("population_reason") != "nsclc"))
        .then(pl.col("population_reason"))
        .when(has_derived).then(pl.coalesce("omd_state", "assessment_state"))
        .otherwise(pl.lit(NONE)).alias("derived"),
    ).sort("source_patient_id", "assessment_date")


def crosstab(matched: pl.DataFrame, rows: str = "intended", columns: str = "derived",
             ) -> pl.DataFrame:
    """Counts of `rows` x `columns` in long form (rows, columns, n), largest first."""
    return (matched.group_by(rows, columns).len("n")
            .sort(["n", rows, columns], descending=[True, False, False]))


def state_agreement(matched: pl.DataFrame) -> dict[str, float]:
    agree = (matched["intended"] == matched["derived"]).sum()
    return {"rows": matched.height, "agree": int(agree),
            "share": agree / matched.height if matched.height else float("nan")}


# Facts compared on assessments whose labels agree: (truth column, derived column).
FACTS = (
    ("intended_n_lesions", "n_lesions"),
    ("intended_n_organs", "n_organs"),
    ("intended_on_systemic_therapy", "on_systemic_therapy"),
    ("intended_has_progression", "has_progression"),
    ("intended_n_stable_lesions", "n_stable_lesions"),
)
# The generator's EORTC-LCG criterion labels -> the warehouse's names (same order of checks).
GENERATOR_CRITERIA = {
    "initial_staging": ["found_at_initial_staging"],
    "lesion_organ_count": ["max_5_metastases", "max_3_organs"],
    "diffuse_disease": ["no_diffuse_serosal_disease"],
    "fdg_pet_ct": ["fdg_pet_ct"],
    "brain_mri": ["brain_imaging"],
    "all_sites_radically_treatable": ["all_sites_radically_treatable"],
}
# Share of matched episodes allowed to disagree on all_sites_treated (docs/agreement.md).
ALL_SITES_TREATED_TOLERANCE = 0.01


def fact_agreement(matched: pl.DataFrame) -> pl.DataFrame:
    """Per fact: rows compared (NSCLC assessments with agreeing labels) and rows differing;
    `n_stable_lesions` also on the progressing counting basis alone."""
    same = matched.filter((pl.col("intended") == pl.col("derived"))
                          & (pl.col("population_reason") == "nsclc"))
    progressing = same.filter(pl.col("progression_count_basis") == "progressing")
    rows = [(truth, derived, same) for truth, derived in FACTS]
    rows.append(("intended_n_stable_lesions", "n_stable_lesions (progressing basis)",
                 progressing))
    return pl.DataFrame(
        [{"fact": derived, "compared": part.height,
          "differ": part.filter(pl.col(truth).ne_missing(pl.col(derived.split(" ")[0]))).height}
         for truth, derived, part in rows])


def _in_window(exams: pl.DataFrame, episodes: pl.DataFrame, modalities: list[str],
               params: ClinicalParameters) -> pl.Series:
    hits = (
        episodes.select("patient_id", "assessment_date").unique()
        .join(exams.filter(pl.col("modality").is_in(modalities)), on="patient_id")
        .filter(pl.col("exam_date").is_between(
            pl.col("assessment_date").dt.offset_by(f"-{params.staging_imaging_before_days}d"),
            pl.col("assessment_date").dt.offset_by(f"{params.staging_imaging_after_days}d")))
        .select("patient_id", "assessment_date").unique().with_columns(hit=pl.lit(True))
    )
    return episodes.join(hits, on=["patient_id", "assessment_date"], how="left")["hit"] \
        .fill_null(False)


def eortc_episodes(matched: pl.DataFrame, derived: Derived,
                   params: ClinicalParameters = DEFAULT_PARAMETERS) -> pl.DataFrame:
    """Intended synchronous episodes matched to a derived synchronous episode, with both flags,
    both first failing criteria, whether they agree, and one consistency fact of the rows: a
    PET-CT seen only as a lesion's detection modality (no PET-CT row in `imaging` in the
    window), which the generator never writes (docs/agreement.md, D4)."""
    sync = matched.filter((pl.col("intended") == "synchronous_omd")
                          & (pl.col("derived") == "synchronous_omd"))
    imaging = derived.staging["imaging"].select("patient_id", "exam_date", "modality")
    detections = derived.staging["metastases"].select(
        "patient_id", pl.col("detected_date").alias("exam_date"),
        pl.col("detection_modality").alias("modality"))
    pet_table = _in_window(imaging, sync, ["fdg_pet_ct"], params)
    pet_any = _in_window(pl.concat([imaging, detections]), sync, ["fdg_pet_ct"], params)
    intended = pl.col("intended_eortc_failed_criterion")
    derived_criterion = pl.col("eortc_failed_criterion")
    same = (intended.is_null() & derived_criterion.is_null()) | pl.any_horizontal(
        (intended == label) & derived_criterion.is_in(names)
        for label, names in GENERATOR_CRITERIA.items()).fill_null(False)
    return sync.with_columns(
        criterion_agrees=same,
        pet_only_from_detection_modality=pet_any & ~pet_table,
    )


def arm_agreement(matched: pl.DataFrame, truth_dir: Path) -> pl.DataFrame:
    """The generator's drawn arm (journeys.parquet) x derived all_sites_treated on the index
    episode, for patients whose index episode was derived as an episode."""
    journeys = pl.read_parquet(Path(truth_dir) / "journeys.parquet").filter(
        pl.col("index_episode_date").is_not_null() & (pl.col("intended_arm") != "none"))
    index = journeys.select(
        pl.col("patient_id").alias("source_patient_id"),
        pl.col("index_episode_date").alias("assessment_date"), "intended_arm")
    return (index.join(matched.filter(pl.col("episode_id").is_not_null()),
                       on=["source_patient_id", "assessment_date"], how="inner")
            .group_by("intended_arm", "all_sites_treated").len("n")
            .sort("intended_arm", "all_sites_treated"))


def _markdown(frame: pl.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |"
            for row in frame.iter_rows()]
    return "\n".join([header, rule, *body])


def _matrix(long: pl.DataFrame, rows: str, columns: str) -> pl.DataFrame:
    wide = long.pivot(on=columns, index=rows, values="n", sort_columns=True).fill_null(0)
    return wide.with_columns(pl.col(rows).cast(pl.String)).sort(rows)


def report(batch_dir: Path, truth_dir: Path,
           params: ClinicalParameters = DEFAULT_PARAMETERS) -> str:
    """The agreement tables of a batch as markdown (the figures of docs/agreement.md)."""
    derived = derive_marts(batch_dir, params)
    truth = read_truth(truth_dir)
    matched = matched_assessments(truth, derived)
    lines = []
    summary = state_agreement(matched)
    lines += [f"## State agreement (batch {derived.batch_id})", "",
              f"{summary['agree']} of {summary['rows']} assessments agree "
              f"({summary['share']:.2%}).", "",
              "Disagreements (intended, derived, assessments):", ""]
    cross = crosstab(matched)
    disagreements = cross.filter(pl.col("intended") != pl.col("derived"))
    lines += [_markdown(disagreements) if disagreements.height else "none", ""]
    examples = (matched.filter(pl.col("intended") != pl.col("derived"))
                .group_by("intended", "derived")
                .agg(pl.col("source_patient_id").unique().sort().head(5).str.join(", ")
                     .alias("patients")))
    if examples.height:
        lines += ["Patients (source ids, first 5):", "", _markdown(examples), ""]
    lines += ["Intended (rows) x derived (columns):", "",
              _markdown(_matrix(cross, "intended", "derived")), ""]
    lines += ["## Assessment facts where the labels agree", "",
              _markdown(fact_agreement(matched)), ""]
    eortc = eortc_episodes(matched, derived, params)
    flags = eortc.group_by("intended_is_eortc_som_nsclc", "is_eortc_som_nsclc").len("n")
    lines += ["## EORTC-LCG flag on synchronous episodes", "",
              _markdown(_matrix(flags, "intended_is_eortc_som_nsclc", "is_eortc_som_nsclc")
                        .rename({"intended_is_eortc_som_nsclc": "intended \\ derived"})), "",
              "First failing criterion (intended, derived):", "",
              _markdown(eortc.group_by("intended_eortc_failed_criterion",
                                       "eortc_failed_criterion").len("n")
                        .sort("n", descending=True)), ""]
    differ = eortc.filter(~pl.col("criterion_agrees"))
    lines += [f"Criterion disagreements: {differ.height} of {eortc.height}.", ""]
    if differ.height:
        lines += [_markdown(differ.group_by("intended_eortc_failed_criterion",
                                            "eortc_failed_criterion",
                                            "pet_only_from_detection_modality")
                            .len("n").sort("n", descending=True)), ""]
    pet_only = eortc.filter(pl.col("pet_only_from_detection_modality")).height
    lines += [f"Episodes with a PET-CT only as a detection modality: {pet_only}.", ""]
    episodes = matched.filter(pl.col("episode_id").is_not_null()
                              & pl.col("intended_omd_state").is_not_null())
    ast = episodes.group_by("intended_all_sites_treated", "all_sites_treated").len("n")
    n_differ = episodes.filter(pl.col("intended_all_sites_treated").ne_missing(
        pl.col("all_sites_treated"))).height
    share = n_differ / episodes.height if episodes.height else 0.0
    verdict = "within" if share <= ALL_SITES_TREATED_TOLERANCE else "OUTSIDE"
    lines += ["## all_sites_treated on matched episodes", "",
              _markdown(_matrix(ast, "intended_all_sites_treated", "all_sites_treated")
                        .rename({"intended_all_sites_treated": "intended \\ derived"})), "",
              f"{n_differ} of {episodes.height} episodes differ ({share:.2%}): {verdict} the "
              f"tolerance of {ALL_SITES_TREATED_TOLERANCE:.0%}.", "",
              "Drawn arm (journeys) x derived all_sites_treated on the index episode:", "",
              _markdown(arm_agreement(matched, truth_dir)), ""]
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in derived.seconds.items())
    lines += [f"(derivation: {timing})"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.agreement",
        description="Agreement of the derived episodes with a generated batch's truth.")
    parser.add_argument("batch_dir", type=Path, help="the batch folder (DIR/<batch_id>)")
    parser.add_argument("--truth", type=Path, default=None,
                        help="the truth folder (default: <batch_dir>.truth next to it)")
    args = parser.parse_args(argv)
    batch_dir = args.batch_dir.resolve()
    truth_dir = args.truth or batch_dir.with_name(batch_dir.name + ".truth")
    if not (truth_dir / "assessments.parquet").is_file():
        print(f"no truth at {truth_dir}", file=sys.stderr)
        return 2
    print(report(batch_dir, truth_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
