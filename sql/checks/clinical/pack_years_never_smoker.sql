-- Pack-years are recorded only for ever smokers (former or current).
select
    p.patient_id as record_key,
    p.patient_id,
    p.pack_years > 0 and coalesce(p.smoking_status not in ('former', 'current'), true)
        as is_failing
from {{patients}} as p
where p.pack_years is not null
