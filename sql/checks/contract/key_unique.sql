-- Staging invariant: the contract key identifies one row.
with keyed as (
    select {{record_key}} as record_key, {{patient_id}} as patient_id from {{t}}
)
select record_key, patient_id, count(*) over (partition by record_key) > 1 as is_failing
from keyed
