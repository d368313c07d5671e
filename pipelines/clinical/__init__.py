"""Pure Polars clinical rules (no Dagster import): LazyFrame in, LazyFrame out."""
