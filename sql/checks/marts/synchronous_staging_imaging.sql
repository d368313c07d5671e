-- EORTC-LCG 2019 (Dingemans, J Thorac Oncol 2019;14:2109-2119): a synchronous episode is
-- staged with an FDG-PET/CT and a brain MRI (brain CT only if allowed) within
-- [episode date - before days, episode date + after days]. Failing: one of them is missing.
with synchronous as (
    select episode_id, patient_id, episode_date
    from {{t}}
    where omd_state = 'synchronous_omd'
),
staging_exams as (
    select
        s.episode_id,
        bool_or(i.modality = 'fdg_pet_ct') as has_pet_ct,
        bool_or(i.modality = 'brain_mri' or ($allow_brain_ct and i.modality = 'brain_ct'))
            as has_brain_imaging
    from synchronous as s
    join {{imaging}} as i
        on i.patient_id = s.patient_id
        and i.exam_date between s.episode_date - cast($imaging_before_days as integer)
            and s.episode_date + cast($imaging_after_days as integer)
    group by s.episode_id
)
select
    s.episode_id as record_key,
    s.patient_id,
    not coalesce(x.has_pet_ct and x.has_brain_imaging, false) as is_failing
from synchronous as s
left join staging_exams as x on x.episode_id = s.episode_id
