-- A line of therapy does not end before it starts.
select
    patient_id || '|' || cast(line_number as varchar) as record_key,
    patient_id,
    line_end_date < line_start_date as is_failing
from {{t}}
where line_end_date is not null and line_start_date is not null
