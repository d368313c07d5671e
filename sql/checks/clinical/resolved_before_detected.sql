-- A lesion cannot disappear before the imaging that first showed it.
select
    lesion_id as record_key,
    patient_id,
    resolved_date < detected_date as is_failing
from {{t}}
where resolved_date is not null and detected_date is not null
