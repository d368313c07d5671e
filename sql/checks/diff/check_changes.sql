-- Checks whose status differs between two runs (the latest run of each batch).
with before as (
    select check_id, asset, passed, failing_count from dq.check_results where run_id = $run_before
),
after as (
    select check_id, asset, passed, failing_count from dq.check_results where run_id = $run_after
)
select
    coalesce(a.check_id, b.check_id) as check_id,
    coalesce(a.asset, b.asset) as asset,
    b.passed as passed_before,
    a.passed as passed_after,
    b.failing_count as failing_before,
    a.failing_count as failing_after,
    case
        when b.check_id is null then 'new_check'
        when a.check_id is null then 'dropped_check'
        when b.passed and not a.passed then 'newly_failing'
        when not b.passed and a.passed then 'recovered'
        when not b.passed and not a.passed then 'still_failing'
        else 'still_passing'
    end as change
from before as b
full outer join after as a on a.check_id = b.check_id
order by change, check_id
