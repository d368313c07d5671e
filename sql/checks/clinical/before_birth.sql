-- A dated event in a year before the patient's year of birth (contract rule event_before_birth).
with e as (
    select {{record_key}} as record_key, patient_id, {{date_column}} as event_date from {{t}}
)
select e.record_key, e.patient_id, year(e.event_date) < p.birth_year as is_failing
from e
join {{patients}} as p on p.patient_id = e.patient_id
where e.event_date is not null and p.birth_year is not null
