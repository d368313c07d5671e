-- A lesion_progression cannot precede the detection of the lesion that progresses.
select
    e.event_id as record_key,
    e.patient_id,
    e.event_date < m.detected_date as is_failing
from {{t}} as e
join {{metastases}} as m on m.lesion_id = e.lesion_id
where e.event_type = 'lesion_progression' and e.event_date is not null
