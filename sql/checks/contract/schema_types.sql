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
    -- The catalog `$main_schema.<table>` names: the search path's (the working warehouse's
    -- staging and marts live in a file of their own, attached), else the database's own.
    on c.table_catalog = coalesce(
        (select trim(split_part(entry, '.', 1), '"')
         from unnest(string_split(current_setting('search_path'), ',')) as p(entry)
         where split_part(entry, '.', 2) = $main_schema
         limit 1),
        current_database())
    and c.table_schema = $main_schema
    and c.table_name = $main_table
    and c.column_name = e.column_name
