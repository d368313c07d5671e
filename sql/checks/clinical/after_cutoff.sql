-- Nothing dated after the batch's data cut-off is used by the warehouse
-- (docs/clinical-rules.md section 6); such rows are counted here. Without a recorded
-- cut-off for the batch nothing is checked.
select
    {{record_key}} as record_key,
    patient_id,
    {{date_column}} > c.oligo_cutoff as is_failing
from {{t}}
cross join (
    select data_cutoff_date as oligo_cutoff from ops.batches
    where batch_id = $batch_id and data_cutoff_date is not null
) as c
where {{date_column}} is not null
