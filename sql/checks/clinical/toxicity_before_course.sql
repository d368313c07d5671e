-- A toxicity attributed to a radiotherapy course cannot start before the course.
with course_start as (
    select course_id, min(start_date) as start_date from {{radiotherapy}} group by course_id
)
select
    t.toxicity_id as record_key,
    t.patient_id,
    t.onset_date < c.start_date as is_failing
from {{t}} as t
join course_start as c on c.course_id = t.course_id
where t.onset_date is not null
