-- Staging invariant: a reference points at an existing parent row (after quarantine).
with child as (
    select {{record_key}} as record_key, {{patient_id}} as patient_id, {{column}} as ref
    from {{t}}
),
parent_keys as (
    select distinct {{ref_column}} as ref_key from {{parent}}
)
select c.record_key, c.patient_id, p.ref_key is null as is_failing
from child as c
left join parent_keys as p on p.ref_key = c.ref
where c.ref is not null and not list_contains(cast($literals as varchar[]), c.ref)
