"""Ingestion library: read a registry batch, screen it, pseudonymise it, find its defects and
build typed staging tables. No Dagster here; assets wrap these functions.

Typical order (the loader's, and the validator's without pseudonymisation):
`open_batch` -> `load_raw_table` per table -> `find_row_defects` -> `build_staging_table`
per table -> `reconcile`.
"""
