-- CTCAE v5.0 grade 5 is death related to the adverse event: only for a dead patient
-- (contract rule grade5_alive).
with e as (
    select {{record_key}} as record_key, patient_id, grade from {{t}}
)
select
    e.record_key,
    e.patient_id,
    e.grade = 5 and p.vital_status is distinct from 'dead' as is_failing
from e
join {{patients}} as p on p.patient_id = e.patient_id
