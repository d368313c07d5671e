-- A treatment that starts before the patient's first diagnosis of a primary lung tumour
-- (contract rule radiotherapy_before_diagnosis, extended to the other treatments).
with e as (
    select {{record_key}} as record_key, patient_id, {{date_column}} as event_date from {{t}}
),
first_diagnosis as (
    select patient_id, min(diagnosis_date) as diagnosis_date
    from {{primary_tumors}}
    group by patient_id
)
select e.record_key, e.patient_id, e.event_date < d.diagnosis_date as is_failing
from e
join first_diagnosis as d on d.patient_id = e.patient_id
where e.event_date is not null
