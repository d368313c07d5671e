-- clinical-rules.md: undecidable episodes are `unclassifiable_<reason>`, never guessed;
-- their share must stay below a threshold for the classification to be trusted.
select episode_id as record_key, patient_id, omd_state like 'unclassifiable_%' as is_failing
from {{t}}
