-- A death date on a patient not recorded as dead is contradictory.
select
    p.patient_id as record_key,
    p.patient_id,
    p.death_date is not null and p.vital_status is distinct from 'dead' as is_failing
from {{patients}} as p
