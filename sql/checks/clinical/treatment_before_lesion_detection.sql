-- Local therapy of a lesion that starts before the imaging that first showed the lesion.
with e as (
    select {{record_key}} as record_key, patient_id, target, {{date_column}} as treatment_date
    from {{t}}
)
select e.record_key, e.patient_id, e.treatment_date < m.detected_date as is_failing
from e
join {{metastases}} as m on m.lesion_id = e.target
where e.treatment_date is not null and m.detected_date is not null
