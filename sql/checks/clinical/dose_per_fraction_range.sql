-- Dose per fraction (total dose / fractions) within a plausible external-beam range.
with rt as (
    select {{record_key}} as record_key, patient_id, total_dose_gy / fractions as dose_per_fraction
    from {{t}}
    where total_dose_gy is not null and fractions > 0
)
select
    record_key,
    patient_id,
    dose_per_fraction < $min_dose_per_fraction_gy or dose_per_fraction > $max_dose_per_fraction_gy
        as is_failing
from rt
