create table if not exists dq.check_results (
    run_id varchar,
    batch_id varchar,
    check_id varchar,
    asset varchar,
    passed boolean,
    severity varchar,
    failing_count bigint,
    total_count bigint,
    failing_pct double,
    threshold_pct double,
    kahn_category varchar,
    kahn_subcategory varchar,
    checked_at timestamp
)
