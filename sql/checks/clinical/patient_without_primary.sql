-- Completeness: every patient of a lung cancer registry has at least one primary tumour.
select
    p.patient_id as record_key,
    p.patient_id,
    not exists (select 1 from {{primary_tumors}} as t where t.patient_id = p.patient_id)
        as is_failing
from {{patients}} as p
