"""Data quality: check specifications generated from the contract and written by hand, their
evaluation (SQL in DuckDB, Great Expectations for column-level expectations), Dagster asset
checks, the `dq.*` history and batch differences.

Nothing here imports Great Expectations at module import time: it costs seconds, and only a
run that validates columns needs it.
"""
