-- Death on or after the diagnosis of every primary (contract rule death_before_diagnosis).
with last_diagnosis as (
    select patient_id, max(diagnosis_date) as diagnosis_date
    from {{primary_tumors}}
    group by patient_id
)
select p.patient_id as record_key, p.patient_id, p.death_date < d.diagnosis_date as is_failing
from {{patients}} as p
join last_diagnosis as d on d.patient_id = p.patient_id
where p.death_date is not null and d.diagnosis_date is not null
