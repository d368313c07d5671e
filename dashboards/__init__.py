"""Streamlit dashboards over the published marts (read-only, through `pipelines.safe_sql`)."""
