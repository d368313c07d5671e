-- Staging invariant: a conditionally required value is present when its condition holds.
select
    {{record_key}} as record_key,
    {{patient_id}} as patient_id,
    {{column}} is null as is_failing
from {{t}}
where {{condition_column}} = $condition_value
