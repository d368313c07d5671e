"""Section 6 of docs/clinical-rules.md: lines of systemic therapy, one test per rule."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipelines.clinical.lines import THERAPY_LINE_COLUMNS, derive_therapy_lines, line_at
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from tests.clinical.fixtures_treatments import rows, staging_frame

DAY0 = dt.date(2024, 1, 1)
ATC = {"carboplatin": "L01XA02", "pemetrexed": "L01BA04", "pembrolizumab": "L01FF02",
       "docetaxel": "L01CD02", "osimertinib": "L01EB04", "denosumab": "M05BX04",
       "dexamethasone": "H02AB02", "cisplatin": "L01XA01", "etoposide": "L01CB01"}


def _day(offset: int | None) -> dt.date | None:
    return None if offset is None else DAY0 + dt.timedelta(days=offset)


def _periods(*periods, patient="P") -> pl.LazyFrame:
    """(drug, start offset, end offset or None[, line_number])"""
    return staging_frame("systemic_therapies", [
        {"therapy_id": f"{patient}{i}", "patient_id": patient, "drug_name": p[0],
         "atc_code": ATC.get(p[0]), "start_date": _day(p[1]), "end_date": _day(p[2]),
         "line_number": p[3] if len(p) > 3 else None}
        for i, p in enumerate(periods)
    ])


def _lines(*periods, params=DEFAULT_PARAMETERS) -> list[dict]:
    out = derive_therapy_lines(_periods(*periods), params)
    assert tuple(out.collect_schema().names()) == THERAPY_LINE_COLUMNS
    return rows(out, ["patient_id", "line_number"])


def _drugs_by_line(*periods, params=DEFAULT_PARAMETERS) -> list[list[str]]:
    return [line["drugs"] for line in _lines(*periods, params=params)]


def test_drugs_starting_within_28_days_form_one_regimen():
    assert _drugs_by_line(("carboplatin", 0, 63), ("pemetrexed", 0, 63),
                          ("pembrolizumab", 28, 300)) == [
        ["carboplatin", "pembrolizumab", "pemetrexed"]]


def test_new_drug_after_the_window_starts_a_new_line():
    assert _drugs_by_line(("carboplatin", 0, 63), ("pemetrexed", 0, 63),
                          ("pembrolizumab", 29, 300)) == [
        ["carboplatin", "pemetrexed"], ["pembrolizumab"]]


def test_dropping_a_drug_is_maintenance_not_a_new_line():
    lines = _lines(("carboplatin", 0, 84), ("pemetrexed", 0, 84), ("pembrolizumab", 0, 84),
                   ("pemetrexed", 85, 400), ("pembrolizumab", 85, 400))
    assert len(lines) == 1
    assert lines[0]["line_start_date"] == DAY0 and lines[0]["line_end_date"] == _day(400)


@pytest.mark.parametrize(("restart", "n_lines"), [(220, 1), (221, 2)])
def test_restart_after_a_gap_over_120_days_is_a_new_line(restart, n_lines):
    lines = _lines(("osimertinib", 0, 100), ("osimertinib", restart, None))
    assert len(lines) == n_lines
    assert lines[-1]["line_end_date"] is None  # ongoing


def test_an_ongoing_drug_leaves_no_gap():
    lines = _lines(("pembrolizumab", 0, None), ("pemetrexed", 0, 60), ("pemetrexed", 400, 500))
    assert len(lines) == 1


def test_new_drug_after_progression_is_second_line():
    lines = _lines(("cisplatin", 0, 84), ("etoposide", 0, 84), ("docetaxel", 150, 250))
    assert [line["line_number"] for line in lines] == [1, 2]
    assert lines[1]["drug_classes"] == ["chemotherapy"]
    assert lines[0]["has_platinum"] and not lines[1]["has_platinum"]
    assert all(line["is_line_derived"] for line in lines)


def test_new_drugs_within_the_window_of_each_other_join_one_new_line():
    lines = _lines(("osimertinib", 0, 500), ("carboplatin", 300, 400),
                   ("pemetrexed", 320, 400))
    assert [line["drugs"] for line in lines] == [["osimertinib"],
                                                 ["carboplatin", "pemetrexed"]]


def test_a_drug_restarting_on_the_day_of_a_new_line_belongs_to_it():
    lines = _lines(("carboplatin", 0, 84), ("pembrolizumab", 0, 84),
                   ("docetaxel", 150, 250), ("pembrolizumab", 150, 250))
    assert [line["drugs"] for line in lines] == [["carboplatin", "pembrolizumab"],
                                                 ["docetaxel", "pembrolizumab"]]


def test_parameters_change_the_windows():
    params = ClinicalParameters(line_regimen_window_days=14, line_restart_gap_days=60)
    assert len(_lines(("carboplatin", 0, 63), ("pembrolizumab", 20, 300),
                      params=params)) == 2
    assert len(_lines(("osimertinib", 0, 100), ("osimertinib", 170, None),
                      params=params)) == 2


def test_bone_agents_and_steroids_make_no_line():
    assert _lines(("denosumab", 0, None), ("dexamethasone", 10, 20)) == []
    lines = _lines(("denosumab", 0, None), ("docetaxel", 200, 300))
    assert [line["drugs"] for line in lines] == [["docetaxel"]]


def test_recorded_line_numbers_are_kept():
    lines = _lines(("carboplatin", 0, 63, 1), ("pemetrexed", 0, 63, 1),
                   ("pembrolizumab", 29, 300, 1), ("docetaxel", 400, 500, 3))
    assert [(line["line_number"], line["is_line_derived"]) for line in lines] == [
        (1, False), (3, False)]
    assert lines[0]["has_anti_pd1_pdl1"] and lines[0]["has_platinum"]


def test_one_missing_line_number_derives_the_patients_lines():
    lines = _lines(("carboplatin", 0, 63, 1), ("docetaxel", 200, 300))
    assert [(line["line_number"], line["is_line_derived"]) for line in lines] == [
        (1, True), (2, True)]


@pytest.mark.parametrize(
    ("drug_name", "old", "new", "klass"),
    [
        ("pembrolizumab", "L01XC18", "L01FF02", "anti_pd1_pdl1"),
        ("osimertinib", "L01XE35", "L01EB04", "egfr_alk_inhibitor"),
        ("ipilimumab", "L01XC11", "L01FX04", "other_immunotherapy"),
        ("bevacizumab", "L01XC07", "L01FG01", "other_targeted"),
        ("alectinib", "L01XE36", "L01ED03", "egfr_alk_inhibitor"),
    ],
)
def test_old_and_new_atc_codes_give_the_same_class(drug_name, old, new, klass):
    """By name, by the current code and by the code before the 2021-2022 restructure."""
    frame = staging_frame("systemic_therapies", [
        {"therapy_id": f"{pid}", "patient_id": pid, "drug_name": name, "atc_code": atc,
         "start_date": DAY0}
        for pid, name, atc in [("by_name", drug_name, None), ("old", "unlisted brand", old),
                               ("new", "unlisted brand", new), ("both", drug_name, old)]
    ])
    out = rows(derive_therapy_lines(frame), "patient_id")
    assert [r["drug_classes"] for r in out] == [[klass]] * 4
    assert out[0]["has_egfr_alk_inhibitor"] is (klass == "egfr_alk_inhibitor")


def test_line_at_a_date():
    lines = derive_therapy_lines(_periods(("cisplatin", 0, 84), ("docetaxel", 150, 250)))
    dates = pl.LazyFrame({
        "patient_id": ["P", "P", "P", "P", "P", "Q"],
        "t": [_day(0), _day(114), _day(115), _day(150), _day(-1), _day(10)],
    })
    out = line_at(dates, lines, "t", name="line").collect()
    # Day 0: the line started that day; day 114: ended 30 days ago (systemic_gap_days),
    # still active; day 115: off therapy; day 150: second line; before any line: none.
    assert out["line"].to_list() == [1, 1, None, 2, None, None]
    assert out["t"].to_list() == dates.collect()["t"].to_list()  # rows kept in order
