-- One check's counts and first failing keys, read from `checked` (the check query, one row
-- per checked record). Several checks share one statement: the runner joins these blocks
-- with UNION ALL, each check query a materialized CTE, and tells them apart by check id.
select
    cast($check_id as varchar) as check_id,
    count(*) as total_count,
    count(*) filter (where is_failing) as failing_count,
    null::varchar as record_key,
    null::varchar as patient_id
from {{checked}}
union all
(
    select cast($check_id as varchar), null, null, cast(record_key as varchar),
        cast(patient_id as varchar)
    from {{checked}}
    where is_failing
    order by record_key, patient_id
    limit $max_failing_rows
)
