-- Rows of a table delivered in the batch (loaded + quarantined); failing: quarantined by one
-- contract rule. The loader applies the rule; this only counts what it quarantined.
with quarantined as (
    select
        coalesce(min(record_key), any_value(file) || ':' || cast(row_number as varchar)) as record_key,
        bool_or(rule_id = $rule_id) as has_rule
    from {{quarantine}}
    where table_name = $table_name
        and (cast($batch_id as varchar) is null or batch_id = $batch_id)
    group by file, row_number
)
select record_key, null::varchar as patient_id, has_rule as is_failing from quarantined
union all
select {{record_key}}, {{patient_id}}, false from {{t}}
