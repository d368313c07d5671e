-- ESTRO/EORTC 2020 tree: the family is de_novo/repeat/induced for the nine states and null
-- exactly when the episode is unclassifiable; the state's prefix matches its family.
select
    episode_id as record_key,
    patient_id,
    case
        when omd_state like 'unclassifiable_%' then omd_family is not null
        when omd_state in ('synchronous_omd', 'metachronous_oligorecurrence',
                           'metachronous_oligoprogression') then omd_family is distinct from 'de_novo'
        when omd_state like 'repeat_%' then omd_family is distinct from 'repeat'
        when omd_state like 'induced_%' then omd_family is distinct from 'induced'
        else true
    end as is_failing
from {{t}}
