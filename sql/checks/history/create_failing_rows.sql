create table if not exists dq.failing_rows (
    run_id varchar,
    batch_id varchar,
    check_id varchar,
    record_key varchar,
    patient_id varchar
)
