-- A cohort attrition step never has more patients than the step before it.
select
    cast(step_order as varchar) as record_key,
    null::varchar as patient_id,
    coalesce(n_patients > lag(n_patients) over (order by step_order), false) as is_failing
from {{t}}
