-- Rows of one table added, removed or changed between two batches, by key; a row changed
-- when any column the two batches share differs.
with rows_before as (
    select
        {{record_key}} as record_key,
        {{patient_id}} as patient_id,
        md5(cast(row({{columns}}) as varchar)) as row_hash
    from {{before}}
),
rows_after as (
    select
        {{record_key}} as record_key,
        {{patient_id}} as patient_id,
        md5(cast(row({{columns}}) as varchar)) as row_hash
    from {{after}}
)
select
    coalesce(a.record_key, b.record_key) as record_key,
    coalesce(a.patient_id, b.patient_id) as patient_id,
    case
        when b.record_key is null then 'added'
        when a.record_key is null then 'removed'
        else 'changed'
    end as change
from rows_before as b
full outer join rows_after as a on a.record_key = b.record_key
where b.record_key is null or a.record_key is null or a.row_hash <> b.row_hash
