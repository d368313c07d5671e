-- An antineoplastic drug (ATC L01, docs/clinical-rules.md section 3) that starts before the
-- patient's first diagnosis. Steroids and bone agents may precede it (symptom control).
with first_diagnosis as (
    select patient_id, min(diagnosis_date) as diagnosis_date
    from {{primary_tumors}}
    group by patient_id
)
select s.therapy_id as record_key, s.patient_id, s.start_date < d.diagnosis_date as is_failing
from {{t}} as s
join first_diagnosis as d on d.patient_id = s.patient_id
where s.start_date is not null and s.atc_code like 'L01%'
