-- Staging invariant: an end date is not before its start date.
select
    {{record_key}} as record_key,
    {{patient_id}} as patient_id,
    {{end_column}} < {{start_column}} as is_failing
from {{t}}
where {{end_column}} is not null and {{start_column}} is not null
