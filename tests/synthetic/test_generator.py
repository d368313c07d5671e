"""The synthetic registry generator (issue 3): reproducible bytes, contract shape, plausible
distributions, every intended state, and agreement with the validator."""

import argparse
import datetime as dt
import json

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.commands import generate as generate_command
from pipelines.contract.dialects import DEFAULT, FRENCH
from pipelines.contract.rules import RULES, Disposition
from pipelines.contract.tables import TABLES
from pipelines.synthetic.batch import BatchSpec, generate_batch
from pipelines.synthetic.draws import BLOCK_SIZE, N_UNIFORMS, Draws
from tests.synthetic.conftest import CUTOFF

NINE_STATES = {
    "synchronous_omd", "metachronous_oligorecurrence", "metachronous_oligoprogression",
    "repeat_oligorecurrence", "repeat_oligoprogression", "repeat_oligopersistence",
    "induced_oligorecurrence", "induced_oligoprogression", "induced_oligopersistence",
}


def _bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_same_seed_same_bytes(tmp_path):
    a = generate_batch(BatchSpec(1000, 11, tmp_path / "a", CUTOFF, messy=True))
    b = generate_batch(BatchSpec(1000, 11, tmp_path / "b", CUTOFF, messy=True))
    assert _bytes(a.batch_dir) == _bytes(b.batch_dir)
    assert a.defects_file.read_bytes() == b.defects_file.read_bytes()
    c = generate_batch(BatchSpec(1000, 12, tmp_path / "c", CUTOFF))
    assert _bytes(a.batch_dir)["patients.csv"] != _bytes(c.batch_dir)["patients.csv"]


def test_uniforms_are_numpys_float32_draws():
    """The raw-bit shortcut of draws.block_bits gives exactly Generator.random's float32s."""
    expected = np.random.default_rng([5, 0, 3]).random((BLOCK_SIZE, N_UNIFORMS), dtype=np.float32)
    got = Draws(5, 3 * BLOCK_SIZE, BLOCK_SIZE).u(N_UNIFORMS)
    assert np.array_equal(got, expected.astype(np.float64))


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_same_bytes_whatever_the_chunk_size(tmp_path, file_format):
    one = generate_batch(BatchSpec(2500, 5, tmp_path / "one", CUTOFF, file_format=file_format,
                                   messy=True, chunk_patients=3000))
    many = generate_batch(BatchSpec(2500, 5, tmp_path / "many", CUTOFF, file_format=file_format,
                                    messy=True, chunk_patients=1000))
    assert _bytes(one.batch_dir) == _bytes(many.batch_dir)
    assert one.defects_file.read_bytes() == many.defects_file.read_bytes()
    assert _bytes(one.truth_dir) == _bytes(many.truth_dir)  # truth appended in fixed row groups


def test_batch_layout_manifest_and_contract_columns(batch_5000):
    batch = batch_5000.batch_dir
    assert batch.name == CUTOFF.isoformat()  # default batch id: the cut-off
    manifest = json.loads((batch / "manifest.json").read_text())
    assert manifest["contract_version"] == "1" and manifest["data_cutoff_date"] == "2026-10-31"
    assert set(manifest["files"]) == {f"{t.name}.csv" for t in TABLES}
    for t in TABLES:
        df = pl.read_csv(batch / f"{t.name}.csv", infer_schema=False)
        assert tuple(df.columns) == t.column_names
        assert manifest["files"][f"{t.name}.csv"]["rows"] == df.height
    # truth next to the batch, not inside it
    assert (batch.parent / f"{batch.name}.truth" / "assessments.parquet").exists()
    assert not any(p.name.startswith("truth") for p in batch.iterdir())


def test_distributions_in_plausible_ranges(batch_5000):
    b = batch_5000.batch_dir
    prim = pl.read_csv(b / "primary_tumors.csv", infer_schema=False)
    morph = prim["morphology_code"].str.slice(0, 4)
    adeno = morph.is_in(["8140", "8250", "8480", "8551"]).mean()
    squamous = morph.is_in(["8070", "8071"]).mean()
    excluded = morph.is_in(["8041", "8013", "8240", "8249"]).mean()
    assert 0.55 <= adeno <= 0.65 and 0.20 <= squamous <= 0.30 and 0.02 <= excluded <= 0.10
    pat = pl.read_csv(b / "patients.csv", infer_schema=False)
    assert 0.5 <= (pat["sex"] == "M").mean() <= 0.7
    dead = (pat["vital_status"] == "dead").mean()
    assert 0.3 <= dead <= 0.8
    egfr = (prim["egfr"] == "positive").mean()
    assert 0.05 <= egfr <= 0.15
    met = pl.read_csv(b / "metastases.csv", infer_schema=False)
    assert {"brain", "bone", "lung", "liver", "adrenal", "regional_lymph_node"} <= set(met["organ"])
    assert met.filter(pl.col("is_diffuse") == "true")["organ"].unique().to_list() == ["pleura"]
    rt = pl.read_csv(b / "radiotherapy.csv", infer_schema=False)
    doses = set(zip(rt["total_dose_gy"], rt["fractions"], strict=True))
    for scheme in [("54", "3"), ("48", "4"), ("50", "5"), ("60", "8"), ("30", "5"), ("24", "1"),
                   ("8", "1"), ("30", "10")]:
        assert scheme in doses
    assert "2" in set(rt["phase"])  # boosts as a second phase
    sys = pl.read_csv(b / "systemic_therapies.csv", infer_schema=False)
    atc = set(sys["atc_code"].drop_nulls())
    assert {"L01FF02", "L01XC18", "M05BX04"} <= atc  # pembrolizumab old and new, denosumab
    ev = pl.read_csv(b / "disease_events.csv", infer_schema=False)
    assert (ev["confirmed"] == "false").sum() > 0  # unconfirmed iUPD progressions
    img = pl.read_csv(b / "imaging.csv", infer_schema=False)
    assert 8 <= img.height / pat.height <= 20
    assert (img["response"] == "iUPD").sum() > 0
    assert (prim["diagnosis_date"].str.len_chars() == 7).sum() > 0  # partial dates
    assert (met["detected_date"].str.len_chars() == 7).sum() > 0
    tox = pl.read_csv(b / "toxicities.csv", infer_schema=False)
    assert (tox["ctcae_term"] == "Pneumonitis").sum() > 0
    assert pl.read_csv(b / "mdt_decisions.csv", infer_schema=False).height > 0


def test_every_intended_state_at_5000_patients(batch_5000):
    a = pl.read_parquet(batch_5000.truth_dir / "assessments.parquet")
    states = set(a["intended_omd_state"].drop_nulls())
    assert states >= NINE_STATES
    assert {"poly", "not_omd_diffuse", "oligo"} <= set(a["intended_assessment_state"])
    assert {"excluded_sclc", "excluded_lcnec_carcinoid", "unclassifiable_ambiguous_primary"} <= states
    sync = a.filter(pl.col("intended_omd_state") == "synchronous_omd")
    assert set(sync["intended_is_eortc_som_nsclc"]) == {True, False}
    # CURB: progressing lesions counted, stable ones reported
    curb = a.filter(pl.col("intended_omd_state") == "induced_oligoprogression")
    assert (curb["n_stable_lesions"] > 0).any()
    assert set(a["intended_all_sites_treated"]) == {True, False}


def test_every_detection_is_an_exam_of_the_imaging_table(batch_5000):
    """A lesion or regional node detected by a modality on a day has that exam in `imaging`:
    the EORTC-LCG check counts both, so a node must not show a PET-CT that was not done."""
    b = batch_5000.batch_dir
    met = pl.read_csv(b / "metastases.csv", infer_schema=False).filter(
        pl.col("detected_date").str.len_chars() == 10,  # partial dates name a month only
        pl.col("detection_modality").is_not_null())  # (lesions after the cut-off have none)
    img = pl.read_csv(b / "imaging.csv", infer_schema=False).select(
        "patient_id", pl.col("exam_date").alias("detected_date"),
        pl.col("modality").alias("detection_modality")).unique()
    keys = ["patient_id", "detected_date", "detection_modality"]
    assert met.join(img, on=keys, how="anti").height == 0
    nodes = met.filter(pl.col("organ") == "regional_lymph_node")
    assert {"fdg_pet_ct", "ct"} <= set(nodes["detection_modality"])


def test_a_local_failure_of_a_curb_lesion_keeps_its_first_progression(batch_5000):
    """poly_curb then a local failure of the same (first treated) lesion: two
    lesion_progression rows, and the CURB assessment is an induced oligoprogression."""
    j = pl.read_parquet(batch_5000.truth_dir / "journeys.parquet").filter(
        (pl.col("scenario") == "poly_curb") & (pl.col("followup_event_type") == "local_failure"))
    assert j.height > 0
    ev = pl.read_csv(batch_5000.batch_dir / "disease_events.csv", infer_schema=False)
    per_lesion = (ev.join(j.select("patient_id"), on="patient_id", how="semi")
                  .filter(pl.col("event_type") == "lesion_progression")
                  .group_by("patient_id", "lesion_id").agg(pl.col("event_date").n_unique().alias("n")))
    assert (per_lesion.filter(pl.col("n") == 2).height
            == j.filter(pl.col("followup_event_date").is_not_null()).height)
    a = pl.read_parquet(batch_5000.truth_dir / "assessments.parquet").join(
        j.select("patient_id", "population_reason"), on="patient_id", how="semi")
    curb = a.filter((pl.col("assessment_number") == 2) & (pl.col("population_reason") == "nsclc"))
    assert curb.height > 0 and (curb["intended_omd_state"] == "induced_oligoprogression").all()
    assert curb["has_progression"].all()


def test_an_mdt_judging_radical_treatment_not_feasible_fails_the_eortc_flag(batch_5000):
    """docs/clinical-rules.md section 4: radical treatability is unverifiable only unless an MDT decision is
    recorded; a recorded "not feasible" about the episode fails the definition, last."""
    b = batch_5000.batch_dir
    mdt = pl.read_csv(b / "mdt_decisions.csv", infer_schema=False).filter(
        pl.col("all_sites_radically_treatable") == "false")
    a = pl.read_parquet(batch_5000.truth_dir / "assessments.parquet").filter(
        pl.col("intended_omd_state") == "synchronous_omd")
    j = pl.read_parquet(batch_5000.truth_dir / "journeys.parquet").select(
        "patient_id", pl.col("index_episode_date").alias("assessment_date"))
    judged = a.join(j, on=["patient_id", "assessment_date"], how="semi").join(
        mdt, on="patient_id", how="semi")
    assert judged.height > 100
    assert (~judged["intended_is_eortc_som_nsclc"]).all()
    failed = judged["intended_eortc_failed_criterion"]
    assert (failed == "all_sites_radically_treatable").sum() > 100
    others = a.join(mdt, on="patient_id", how="anti")
    assert "all_sites_radically_treatable" not in set(others["intended_eortc_failed_criterion"])


def test_known_effect_all_sites_treated_lowers_death(batch_5000):
    j = pl.read_parquet(batch_5000.truth_dir / "journeys.parquet")
    sync = j.filter(pl.col("scenario") == "synchronous")
    rate = sync.group_by("intended_arm").agg(pl.col("is_dead").mean()).sort("intended_arm")
    deaths = dict(zip(rate["intended_arm"], rate["is_dead"], strict=True))
    assert deaths["all_sites"] < deaths["systemic"]


def _validator():
    return pytest.importorskip("pipelines.ingest.validate")


def test_clean_batch_has_zero_defects(tmp_path):
    clean = generate_batch(BatchSpec(2000, 8, tmp_path, CUTOFF))
    report = _validator().validate_batch(clean.batch_dir, DEFAULT)
    assert report.ok, report.batch_defects
    assert report.row_defects.height == 0


def test_messy_batch_reports_exactly_the_listed_defects(messy_5000):
    report = _validator().validate_batch(messy_5000.batch_dir, DEFAULT)
    assert report.ok, report.batch_defects  # below the 1 % refusal threshold
    got = report.row_defects.filter(pl.col("rule_id") != "parent_quarantined").select(
        table="table_name", key="record_key", column="column_name", rule="rule_id",
        row_number="row_number", file="file").sort(pl.all())
    listed = pl.read_csv(messy_5000.defects_file, schema_overrides={"key": pl.String})
    # Every row rule of the contract is injected (the cascade follows from the others) ...
    row_rules = {r.rule_id for r in RULES.values()
                 if r.disposition == Disposition.ROW_QUARANTINE} - {"parent_quarantined"}
    assert row_rules <= set(listed["rule"])
    # ... and every cross-record warning, plus stray case and blanks to normalise.
    warnings = {r.rule_id for r in RULES.values() if r.disposition == Disposition.CROSS_RECORD_WARNING}
    assert warnings | {"normalised"} <= set(listed["rule"])
    expected = listed.filter(pl.col("rule") != "normalised").sort(pl.all())
    assert got.equals(expected)


def test_french_dialect_and_identifier(tmp_path):
    r = generate_batch(BatchSpec(300, 2, tmp_path, CUTOFF, batch_id="fr-1", dialect=FRENCH))
    raw = (r.batch_dir / "patients.csv").read_bytes()
    assert raw.startswith(b"id_patient;sexe;annee_naissance;")
    raw.decode("cp1252")
    report = _validator().validate_batch(r.batch_dir, FRENCH)
    assert report.ok and report.row_defects.height == 0
    bad = generate_batch(BatchSpec(300, 2, tmp_path / "id", CUTOFF, inject_identifier=True))
    refused = _validator().validate_batch(bad.batch_dir, DEFAULT)
    assert not refused.ok
    assert "direct_identifier" in {d.rule_id for d in refused.batch_defects}


@pytest.mark.parametrize("file_format", ["parquet", "xlsx"])
def test_other_formats_hold_the_same_text(tmp_path, file_format):
    csv = generate_batch(BatchSpec(200, 4, tmp_path / "csv", CUTOFF))
    other = generate_batch(BatchSpec(200, 4, tmp_path / file_format, CUTOFF, file_format=file_format))
    for t in ("patients", "radiotherapy"):
        a = pl.read_csv(csv.batch_dir / f"{t}.csv", infer_schema=False)
        b = (pl.read_parquet if file_format == "parquet" else pl.read_excel)(
            other.batch_dir / f"{t}.{file_format}")
        b = b.select(pl.all().cast(pl.String))
        assert a.equals(b.select(a.columns))


def test_cli(tmp_path):
    parser = argparse.ArgumentParser(prog="oligo")
    generate_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["generate", "--patients", "120", "--seed", "9", "--out", str(tmp_path),
                              "--batch-id", "b1", "--cutoff", "2025-12-31", "--messy"])
    assert args.func(args) == 0
    assert (tmp_path / "b1" / "manifest.json").exists()
    assert (tmp_path / "b1.defects.csv").exists()
    assert json.loads((tmp_path / "b1" / "manifest.json").read_text())["data_cutoff_date"] == "2025-12-31"


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 150))
def test_property_any_seed_and_size(tmp_path_factory, seed, n):
    out = tmp_path_factory.mktemp("prop")
    r = generate_batch(BatchSpec(n, seed, out, dt.date(2025, 6, 30)))
    pat = pl.read_csv(r.batch_dir / "patients.csv", infer_schema=False)
    assert pat.height == n and pat["patient_id"].is_unique().all()
    a = pl.read_parquet(r.truth_dir / "assessments.parquet")
    j = pl.read_parquet(r.truth_dir / "journeys.parquet")
    assert j.height == n
    # every intended assessment lies within its patient's follow-up, never after the cut-off
    a = a.join(j.select("patient_id", "last_contact_date"), on="patient_id")
    assert (a["assessment_date"] <= a["last_contact_date"]).all()
    assert (j["last_contact_date"] <= dt.date(2025, 6, 30)).all()
    # oligo states only for 1..5 counted lesions; one state per assessment
    oligo_rows = a.filter(pl.col("intended_assessment_state") == "oligo")
    assert oligo_rows["n_lesions"].is_between(1, 5).all()
    assert a.select("patient_id", "assessment_number").is_unique().all()
    report = _validator().validate_batch(r.batch_dir, DEFAULT)
    assert report.ok and report.row_defects.height == 0


def test_review_cases_are_in_the_batch(batch_5000):
    """The cases of the review (pipelines/synthetic/review_cases.py) are written: staggered
    SBRT of a treatment decision, drugs by name only, a regional node first seen in the
    grouping window, rows dated after the cut-off."""
    b = batch_5000.batch_dir
    rt = pl.read_csv(b / "radiotherapy.csv", infer_schema=False)
    j = pl.read_parquet(batch_5000.truth_dir / "journeys.parquet")
    decided = j.filter(pl.col("scenario").is_in(["poly_persistence", "synchronous_late_lct"]))
    starts = (rt.join(decided.select("patient_id"), on="patient_id", how="semi")
              .group_by("patient_id").agg(pl.col("start_date").n_unique().alias("days"),
                                          pl.col("start_date").min().alias("first"),
                                          pl.col("start_date").max().alias("last")))
    staggered = starts.filter(pl.col("days") >= 2)
    assert staggered.height > 20
    drugs = pl.read_csv(b / "systemic_therapies.csv", infer_schema=False)
    by_name = drugs.filter(pl.col("drug_name").is_in(["capmatinib", "tepotinib",
                                                      "selpercatinib"]))
    assert by_name.height > 10 and by_name["atc_code"].null_count() == by_name.height
    met = pl.read_csv(b / "metastases.csv", infer_schema=False)
    first = met.filter(pl.col("organ") != "regional_lymph_node").group_by("patient_id").agg(
        pl.col("detected_date").min().alias("first"))
    nodes = met.filter(pl.col("organ") == "regional_lymph_node").join(first, on="patient_id")
    late = nodes.filter(pl.col("detected_date") > pl.col("first"))
    assert late.height > 20
    cutoff = CUTOFF.isoformat()
    assert met.filter(pl.col("detected_date") > cutoff).height > 20
    assert drugs.filter(pl.col("start_date") > cutoff).height > 20
