"""Counted, active, resolved and controlled lesions (docs/clinical-rules.md section 2)."""


def _burden(out, episode_number):
    ep = out["omd_episodes"].filter(episode_number=episode_number)["episode_id"][0]
    el = out["episode_lesions"].filter(episode_id=ep)
    return sorted(el["lesion_id"].to_list())


def test_regional_nodes_never_count_nor_create_an_assessment(derive, lesion):
    out = derive(metastases=[lesion("L1", "2024-01-05"),
                             lesion("R1", "2024-01-05", "regional_lymph_node"),
                             lesion("R2", "2024-09-01", "regional_lymph_node")])
    assert out["disease_assessments"]["n_lesions"].to_list() == [1]
    out = derive(metastases=[lesion("R1", "2024-01-05", "regional_lymph_node")])
    assert out["disease_assessments"].height == 0 and out["omd_episodes"].height == 0


def test_resolved_lesion_leaves_the_burden(derive, lesion):
    out = derive(metastases=[lesion("L1", "2024-01-05", resolved_date="2024-03-01"),
                             lesion("L2", "2024-08-01", "bone")])
    assert _burden(out, 2) == ["L2"]


def test_resolved_lesion_comes_back_with_a_progression(derive, lesion):
    out = derive(metastases=[lesion("L1", "2024-01-05", resolved_date="2024-03-01"),
                             lesion("L2", "2024-08-01", "bone")],
                 disease_events=[{"event_id": "e1", "event_date": "2024-07-20",
                                  "event_type": "lesion_progression", "lesion_id": "L1"}])
    assert _burden(out, 2) == ["L1", "L2"]


def test_controlled_lesion_leaves_the_burden_until_it_progresses(derive, lesion):
    sbrt = {"course_id": "c1", "total_dose_gy": 50.0, "fractions": 5, "technique": "sbrt",
            "target": "L1", "start_date": "2024-02-01"}
    tables = {"metastases": [lesion("L1", "2024-01-05"), lesion("L2", "2024-08-01", "bone")],
              "radiotherapy": [sbrt]}
    assert _burden(derive(**tables), 2) == ["L2"]
    local_failure = {"event_id": "e1", "event_date": "2024-07-25",
                     "event_type": "lesion_progression", "lesion_id": "L1"}
    assert _burden(derive(disease_events=[local_failure], **tables), 2) == ["L1", "L2"]


def test_palliative_therapy_does_not_control(derive, lesion):
    rt = {"course_id": "c1", "total_dose_gy": 8.0, "fractions": 1, "target": "L1",
          "start_date": "2024-02-01"}
    out = derive(metastases=[lesion("L1", "2024-01-05"), lesion("L2", "2024-08-01", "bone")],
                 radiotherapy=[rt])
    assert _burden(out, 2) == ["L1", "L2"]
