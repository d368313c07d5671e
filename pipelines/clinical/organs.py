"""Which organ a metastatic lesion counts in, for organ counting.

Sources: ESTRO/EORTC 2020 (Guckenberger et al., Lancet Oncol 2020;21:e18-e28) counts
lesions and organs; EORTC-LCG 2019 (Dingemans et al., J Thorac Oncol 2019;14:2109-2119)
limits synchronous OMD to 3 organs; the organ conventions are those of
docs/clinical-rules.md section 2:
- bone is one organ whatever the number of lesions; both lungs are one organ; distant lymph
  nodes are one organ;
- both adrenals are one organ (`adrenals_one_organ`); when off, left and right count apart
  and an adrenal lesion of unknown side is an organ of its own (never merged by guess);
- for `other`, each distinct 4-character ICD-10 site code (C79.8 from C79.81) is one organ,
  and a lesion without a code, or with a code shorter than 4 characters (C79), is an organ
  of its own.
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters

KNOWN_SIDES = ("left", "right")


def organ_label(params: ClinicalParameters = DEFAULT_PARAMETERS) -> pl.Expr:
    """The organ a lesion counts in (columns organ, site_code, laterality, site_laterality,
    lesion_id); distinct labels of a patient's lesions are distinct organs."""
    organ = pl.col("organ")
    side = pl.coalesce("laterality", "site_laterality")
    # C79.81 / C7981 -> C79.8: three-character category plus the first subcategory digit.
    site4 = pl.col("site_code").str.replace_all(r"[.\s]", "").str.to_uppercase().str.slice(0, 4)
    site_label = site4.str.slice(0, 3) + pl.lit(".") + site4.str.slice(3, 1)
    own_organ = pl.lit("own:") + pl.col("lesion_id")
    adrenal = (
        pl.lit("adrenal")
        if params.adrenals_one_organ
        else pl.when(side.is_in(KNOWN_SIDES).fill_null(False))
        .then(pl.lit("adrenal_") + side)
        .otherwise(pl.lit("adrenal_") + own_organ)
    )
    return (
        pl.when(organ == "adrenal")
        .then(adrenal)
        .when(organ == "other")
        .then(
            pl.when(site4.str.len_chars() == 4)
            .then(pl.lit("other_") + site_label)
            .otherwise(pl.lit("other_") + own_organ)
        )
        .otherwise(organ)
        .alias("organ_label")
    )


def n_organs(counted: pl.Expr) -> pl.Expr:
    """Number of organs among the counted lesions of a group (use inside `agg`)."""
    return pl.col("organ_label").filter(counted).n_unique()
