-- Age at diagnosis (diagnosis year - birth year) within a plausible range for NSCLC.
select
    t.tumor_id as record_key,
    t.patient_id,
    year(t.diagnosis_date) - p.birth_year not between $min_age_at_diagnosis and $max_age_at_diagnosis
        as is_failing
from {{t}} as t
join {{patients}} as p on p.patient_id = t.patient_id
where t.diagnosis_date is not null and p.birth_year is not null
