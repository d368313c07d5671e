-- Progression-free survival time cannot exceed overall survival time from the same origin.
select
    episode_id || '|' || origin as record_key,
    patient_id,
    pfs_days > os_days as is_failing
from {{t}}
where pfs_days is not null and os_days is not null
