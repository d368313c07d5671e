"""Thin Dagster asset wrappers: load inputs, call a pure function, write, report metadata."""
