-- A drug row is recognised by its ATC code or by its name (the drug code set and the
-- registry's site mapping, both passed as parameters); a row recognised by neither cannot
-- be told antineoplastic or not (docs/clinical-rules.md section 3, Drugs).
select
    {{record_key}} as record_key,
    patient_id,
    nullif(trim(atc_code), '') is null
        and not list_contains($known_drug_names, lower(trim(drug_name))) as is_failing
from {{t}}
