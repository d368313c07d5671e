-- The physical dose of a course and target, its phases summed, stays under the cGy limit.
select
    course_id || '|' || target as record_key,
    any_value(patient_id) as patient_id,
    sum(total_dose_gy) > $max_course_dose_gy as is_failing
from {{t}}
group by course_id, target
