-- Pass rate per Kahn category and subcategory for one run.
select
    kahn_category,
    kahn_subcategory,
    count(*) as n_checks,
    count(*) filter (where passed) as n_passed,
    count(*) filter (where not passed) as n_failed,
    count(*) filter (where not passed and severity = 'block') as n_blocking_failed,
    round(100.0 * count(*) filter (where passed) / count(*), 1) as pass_pct
from dq.check_results
where run_id = $run_id
group by kahn_category, kahn_subcategory
order by kahn_category, kahn_subcategory
