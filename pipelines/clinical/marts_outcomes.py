"""Documentation of the outcome marts, for `COMMENT ON TABLE/COLUMN` and the dictionary.

One entry per table: its grain, a description and every column. The rules in plain words
are in `docs/outcomes.md`.
"""

from __future__ import annotations

MART_DOCS: dict[str, dict] = {
    "episode_outcomes": {
        "grain": "one row per OMD episode and origin (episode; lct where LCT started)",
        "description": (
            "Time-to-event outcomes in days with administrative censoring at the batch's "
            "data cut-off (docs/clinical-rules.md section 6). Times and events are null for "
            "contradictory input (an origin after the cut-off, a death before the origin)."
        ),
        "columns": {
            "episode_id": "the OMD episode",
            "patient_id": "registry pseudonym of the patient",
            "origin": "episode (the episode date) or lct (the first day of LCT)",
            "origin_date": "day 0 of every time of the row",
            "is_first_episode": "the patient's first episode (the default analysis set)",
            "os_days": "days to death, or to min(last contact, cut-off)",
            "os_event": "1 death from any cause, 0 censored",
            "pfs_days": "days to progression or death, or to the PFS censoring date",
            "pfs_event": "1 progression (new lesion outside the episode's detection group, "
                         "confirmed lesion, regional or primary progression) or death within "
                         "{pfs_death_window_days} days of the last imaging exam; 0 censored at min(last imaging, "
                         "last contact, cut-off), or at the origin without imaging after it",
            "wsp_days": "days to widespread progression or death, or to the last imaging exam",
            "wsp_event": "1 first later polymetastatic or diffuse assessment, or death; "
                         "0 censored",
            "ttnt_days": "days to the next line of systemic therapy, death, or censoring at "
                         "min(last contact, cut-off)",
            "ttnt_status": "0 censored, 1 next systemic therapy, 2 death first (competing)",
        },
    },
    "lesion_outcomes": {
        "grain": "one row per radically treated lesion",
        "description": (
            "Local control from the first day of the lesion's first radical therapy, with "
            "death as a competing risk (report the Aalen-Johansen cumulative incidence)."
        ),
        "columns": {
            "patient_id": "registry pseudonym of the patient",
            "lesion_id": "the treated lesion",
            "organ": "organ of the lesion",
            "therapy_start_date": "first day of its first radical local therapy (day 0)",
            "bed10_gy": "BED10 of that course (phases summed); null for surgery or ablation",
            "is_lung_bed10_adequate": "course BED10 >= {lung_bed10_adequate_gy} Gy; null unless a lung lesion "
                                      "treated with radiotherapy",
            "lf_days": "days to local failure, death, or the last exam imaging the lesion's "
                       "organ",
            "lf_status": "0 censored, 1 local failure (confirmed progression of the lesion), "
                         "2 death first (competing)",
        },
    },
    "toxicity_summary": {
        "grain": "one row per radiotherapy course",
        "description": (
            "Worst CTCAE v5.0 grade per course, acute (onset 0-{acute_toxicity_days} days after "
            "the first "
            "fraction) and late (after), all causes and attributed to radiotherapy. 0 = no "
            "adverse event recorded."
        ),
        "columns": {
            "patient_id": "registry pseudonym of the patient",
            "course_id": "the radiotherapy course",
            "max_grade_acute": "worst grade with onset 0-{acute_toxicity_days} days after the course start, any "
                               "attribution",
            "max_grade_late": "worst grade with onset more than {acute_toxicity_days} days after, any "
                              "attribution",
            "max_grade_acute_rt": "worst acute grade attributed to radiotherapy (or both)",
            "max_grade_late_rt": "worst late grade attributed to radiotherapy (or both)",
            "has_grade3plus": "an adverse event of grade 3 or more, any attribution",
            "has_pneumonitis_grade2plus": "pneumonitis of grade 2 or more",
        },
    },
    "patient_followup": {
        "grain": "one row per patient with an OMD episode",
        "description": (
            "Follow-up from the first episode, for the median follow-up by reverse "
            "Kaplan-Meier (the censoring indicator reversed)."
        ),
        "columns": {
            "patient_id": "registry pseudonym of the patient",
            "followup_days": "days from the first episode to death or to min(last contact, "
                             "cut-off)",
            "followup_event": "1 censored alive (the reverse Kaplan-Meier event), 0 died",
        },
    },
}
