-- Drug periods longer than the limit (ongoing ones up to the last contact) are flagged.
with e as (
    select {{record_key}} as record_key, patient_id, start_date, end_date from {{t}}
)
select
    e.record_key,
    e.patient_id,
    date_diff('day', e.start_date, coalesce(e.end_date, p.last_contact_date)) > $max_drug_period_days
        as is_failing
from e
join {{patients}} as p on p.patient_id = e.patient_id
where e.start_date is not null and coalesce(e.end_date, p.last_contact_date) is not null
