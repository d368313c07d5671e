-- The last contact of a dead patient is not after the death date
-- (contract rule last_contact_after_death).
select p.patient_id as record_key, p.patient_id, p.last_contact_date > p.death_date as is_failing
from {{patients}} as p
where p.death_date is not null and p.last_contact_date is not null
