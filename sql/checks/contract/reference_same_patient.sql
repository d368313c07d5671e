-- Staging invariant: a referenced row belongs to the same patient.
with child as (
    select {{record_key}} as record_key, {{patient_id}} as patient_id, {{column}} as ref
    from {{t}}
)
select
    c.record_key,
    any_value(c.patient_id) as patient_id,
    not bool_or(p.patient_id = c.patient_id) as is_failing
from child as c
join {{parent}} as p on p.{{ref_column}} = c.ref
group by c.record_key
