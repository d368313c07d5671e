-- Cohort attrition: no step counts more patients than the first (all patients), and the
-- inclusion steps (those not named excluded_*, review_* or unclassifiable_*) never grow
-- from one to the next.
with steps as (
    select
        step_order,
        n_patients,
        step like 'excluded\_%' escape '\' or step like 'review\_%' escape '\'
            or step like 'unclassifiable\_%' escape '\' as is_exclusion,
        first_value(n_patients) over (order by step_order) as n_first
    from {{t}}
),
inclusion as (
    select step_order, n_patients > lag(n_patients) over (order by step_order) as grows
    from steps
    where not is_exclusion
)
select
    cast(s.step_order as varchar) as record_key,
    null::varchar as patient_id,
    s.n_patients > s.n_first or coalesce(i.grows, false) as is_failing
from steps as s
left join inclusion as i on i.step_order = s.step_order
