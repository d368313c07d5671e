-- The first failing keys of one check that failed, read from `checked` (the check query).
-- Asked only of the checks whose count found failing rows; several share one statement.
select cast($check_id as varchar) as check_id, cast(record_key as varchar) as failing_key,
    cast(patient_id as varchar) as failing_patient
from {{checked}}
where is_failing
order by record_key, patient_id
limit $max_failing_rows
