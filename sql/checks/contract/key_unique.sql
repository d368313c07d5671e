-- Staging invariant: the contract key identifies one row. The repeated keys come from one
-- hash aggregate and are joined back (a window partitioned by the key sorts every row: 2x
-- slower at 100,000 patients and it spills at national scale); NOT DISTINCT keeps two empty
-- keys a repetition, as the partition did.
with keyed as (
    select {{record_key}} as record_key, {{patient_id}} as patient_id from {{t}}
),
repeated as (
    select record_key, true as is_repeated from keyed group by record_key having count(*) > 1
)
select k.record_key, k.patient_id, coalesce(r.is_repeated, false) as is_failing
from keyed as k
left join repeated as r on r.record_key is not distinct from k.record_key
