-- The run that checked last (for one batch, or any batch when $batch_id is null).
select run_id
from dq.check_results
where cast($batch_id as varchar) is null or batch_id = $batch_id
group by run_id
order by max(checked_at) desc, run_id desc
limit 1
