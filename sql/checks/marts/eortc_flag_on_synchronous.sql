-- clinical-rules.md section 4: the EORTC-LCG flag is true or false, never empty, on every
-- synchronous episode, and null on the others.
select
    episode_id as record_key,
    patient_id,
    (omd_state = 'synchronous_omd') = (is_eortc_som_nsclc is null) as is_failing
from {{t}}
