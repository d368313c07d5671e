-- Last contact is on or after every dated event of the patient (registry-export.md:
-- last_contact_date is the last date known alive, or the death date).
with e as (
    select {{record_key}} as record_key, patient_id, {{date_column}} as event_date from {{t}}
)
select e.record_key, e.patient_id, e.event_date > p.last_contact_date as is_failing
from e
join {{patients}} as p on p.patient_id = e.patient_id
where e.event_date is not null and p.last_contact_date is not null
