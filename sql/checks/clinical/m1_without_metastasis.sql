-- Completeness: a primary staged cM1 (TNM 8th edition) has at least one metastasis recorded.
select
    t.tumor_id as record_key,
    t.patient_id,
    not exists (
        select 1 from {{metastases}} as m
        where m.patient_id = t.patient_id and m.organ <> 'regional_lymph_node'
    ) as is_failing
from {{t}} as t
where upper(t.clinical_m) like 'CM1%'
