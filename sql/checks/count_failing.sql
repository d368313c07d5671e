-- Wraps one check query (the body): row and failing counts, and the first failing keys.
with checked as materialized (
{{body}}
),
counts as (
    select count(*) as total_count, count(*) filter (where is_failing) as failing_count
    from checked
),
failing as (
    select record_key, patient_id
    from checked
    where is_failing
    order by record_key, patient_id
    limit $max_failing_rows
)
select c.total_count, c.failing_count, f.record_key, f.patient_id
from counts as c
left join failing as f on true
