-- Cohort attrition reconciles (docs/clinical-rules.md, cohort attrition): each step's
-- remaining patients are the previous step's minus those it excludes, the first step
-- excludes nobody, and no count is negative.
with steps as (
    select
        step_order,
        remaining,
        excluded,
        lag(remaining) over (order by step_order) as previous_remaining
    from {{t}}
)
select
    cast(step_order as varchar) as record_key,
    null::varchar as patient_id,
    remaining < 0 or excluded < 0
        or (previous_remaining is null and excluded <> 0)
        or coalesce(remaining <> previous_remaining - excluded, false) as is_failing
from steps
