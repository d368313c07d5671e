-- Staging conformance: every expected column exists with its staging type.
with expected as (
    select unnest($expected_columns) as column_name, unnest($expected_types) as data_type
)
select
    e.column_name as record_key,
    null::varchar as patient_id,
    c.data_type is distinct from e.data_type as is_failing
from expected as e
left join information_schema.columns as c
    on c.table_catalog = current_database()
    and c.table_schema = $main_schema
    and c.table_name = $main_table
    and c.column_name = e.column_name
