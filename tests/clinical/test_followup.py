"""Section 6 of docs/clinical-rules.md: follow-up for the reverse Kaplan-Meier."""

from __future__ import annotations

import datetime as dt

from pipelines.clinical.followup import PATIENT_FOLLOWUP_COLUMNS, derive_patient_followup
from tests.clinical.fixtures_treatments import omd_episodes, rows, staging_frame

CUTOFF = dt.date(2025, 1, 1)


def test_followup_from_the_first_episode_reverse_km_event():
    patients = staging_frame("patients", [
        {"patient_id": "alive", "sex": "F", "birth_year": 1950, "vital_status": "alive",
         "last_contact_date": "2024-07-01"},
        {"patient_id": "dead", "sex": "M", "birth_year": 1950, "vital_status": "dead",
         "death_date": "2024-03-01", "last_contact_date": "2024-03-01"},
        {"patient_id": "dead_later", "sex": "M", "birth_year": 1950, "vital_status": "dead",
         "death_date": "2025-03-01", "last_contact_date": "2025-03-01"},
        {"patient_id": "no_episode", "sex": "M", "birth_year": 1950, "vital_status": "alive",
         "last_contact_date": "2024-03-01"},
    ])
    episodes = omd_episodes([
        {"patient_id": "alive", "episode_id": "a1", "episode_date": "2024-01-01"},
        {"patient_id": "alive", "episode_id": "a2", "episode_date": "2024-05-01"},
        {"patient_id": "dead", "episode_id": "d1", "episode_date": "2024-01-01"},
        {"patient_id": "dead_later", "episode_id": "l1", "episode_date": "2024-01-01"},
    ])
    out = derive_patient_followup(patients, episodes, CUTOFF)
    assert tuple(out.collect_schema().names()) == PATIENT_FOLLOWUP_COLUMNS
    got = {r["patient_id"]: (r["followup_days"], r["followup_event"]) for r in rows(out)}
    assert got == {
        "alive": (182, 1),        # from the first episode to the last contact, censored alive
        "dead": (60, 0),          # died: not an event of the reverse KM
        "dead_later": (366, 1),   # death after the cut-off unknown: alive at the cut-off
    }
