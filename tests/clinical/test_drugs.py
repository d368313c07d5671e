import polars as pl

from pipelines.clinical.drugs import atc_normalisation_map, drug_class, is_antineoplastic


def _classify(rows):
    df = pl.DataFrame(rows, schema={"drug_name": pl.String, "atc_code": pl.String}, orient="row")
    return df.with_columns(drug_class(), is_antineoplastic())


def test_immunotherapy_by_name_by_current_and_by_previous_atc():
    out = _classify([("Pembrolizumab", None), ("unknown brand", "L01FF02"),
                     ("unknown brand", "L01XC18")])
    assert out["drug_class"].to_list() == ["anti_pd1_pdl1"] * 3
    assert out["is_antineoplastic"].all()


def test_bone_agents_and_steroids_are_not_antineoplastic():
    out = _classify([("denosumab", "M05BX04"), ("zoledronic acid", None), ("dexamethasone", None),
                     ("xgeva", "M05BX04")])
    assert out["drug_class"].to_list() == ["bone_agent", "bone_agent", "steroid", "bone_agent"]
    assert not out["is_antineoplastic"].any()


def test_classes_of_the_spec():
    out = _classify([("carboplatin", None), ("ipilimumab", None), ("osimertinib", None),
                     ("lorlatinib", None), ("dabrafenib", None), ("bevacizumab", None),
                     ("sotorasib", None), ("pemetrexed", None)])
    assert out["drug_class"].to_list() == [
        "platinum", "other_immunotherapy", "egfr_alk_inhibitor", "egfr_alk_inhibitor",
        "other_targeted", "other_targeted", "other_targeted", "chemotherapy"]


def test_unlisted_l01_counts_by_group_and_unknown_drug_is_unclassified():
    out = _classify([("newdrug", "L01EB99"), ("otherdrug", "L01XX99"), ("vitamin", None),
                     ("paracetamol", "N02BE01")])
    assert out["drug_class"].to_list() == ["egfr_alk_inhibitor", "other_antineoplastic", None, None]
    assert out["is_antineoplastic"].to_list() == [True, True, False, False]


def test_old_atc_codes_map_to_current():
    mapping = atc_normalisation_map()
    assert mapping["L01XC18"] == "L01FF02"
    assert mapping["L01XE35"] == "L01EB04"
    assert mapping["L01XC07"] == "L01FG01"
