-- One check's counts, read from `checked` (the check query, one row per checked record).
-- Several checks share one statement: the runner joins these blocks with UNION ALL and
-- tells them apart by check id. No keys here: a count needs none, and most checks pass.
select
    cast($check_id as varchar) as check_id,
    count(*) as total_count,
    count(*) filter (where is_failing) as failing_count
from {{checked}}
