"""What every page shares: the sidebar (batch picker, filters), the freshness banner, the
filter kept in the URL, and the message for a data folder with nothing published yet.

The router (`app.py`) calls `render_shell()` before running the page; the page reads the
result with `page_context()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import polars as pl
import streamlit as st

from dashboards import charts, data
from dashboards.access import Viewer
from dashboards.disclosure import Policy, policy_for
from dashboards.filters import (
    FACETS,
    FACETS_BY_KEY,
    RANGES,
    Filters,
    clean_filters,
    facet_counts,
    facet_word,
    parse_range,
)
from pipelines.settings import paths

CONTEXT_KEY = "_oligo_page_context"
PENDING_FILTERS_KEY = "_oligo_url_filters"  # a filter the sidebar applies on its next run
URL_LOADED_KEY = "_oligo_url_loaded"
BATCH_KEY = "batch"
STATUS_WORDS = {
    "blocked_dq": "blocked by data quality checks",
    "refused": "refused",
    "failed": "failed",
}


@dataclass(frozen=True)
class PageContext:
    batch: str
    database: Path
    provenance: data.Provenance | None
    filters: Filters
    viewer: Viewer
    policy: Policy  # the disclosure policy of the viewer's role (dashboards.disclosure)

    @property
    def threshold(self) -> int:
        return self.policy.threshold


def filter_key(facet_key: str) -> str:
    return f"filter_{facet_key}"


def page_context() -> PageContext:
    return st.session_state[CONTEXT_KEY]


# --- callbacks (run before the rerun, so they may set widget state) ------------------------


def clear_filters() -> None:
    for facet in FACETS:
        st.session_state[filter_key(facet.key)] = []
    prefixes = tuple(filter_key(item.key) + "_" for item in RANGES)
    for key in [k for k in st.session_state if str(k).startswith(prefixes)]:
        del st.session_state[key]


def select_from_chart(facet_key: str, chart_key: str) -> None:
    """A click (shift-click for several) on a chart's bars sets that facet's filter to
    those bars."""
    values = charts.selected_labels(st.session_state.get(chart_key))
    if values:
        st.session_state[filter_key(facet_key)] = list(dict.fromkeys(values))


# --- URL -------------------------------------------------------------------------------


def _load_url_once(choices: list[str]) -> None:
    """On a session's first run, take batch and filters from the shared URL."""
    if st.session_state.get(URL_LOADED_KEY):
        return
    st.session_state[URL_LOADED_KEY] = True
    batch = st.query_params.get(BATCH_KEY)
    if batch in choices:
        st.session_state[BATCH_KEY] = batch
    st.session_state[PENDING_FILTERS_KEY] = {
        facet.key: st.query_params.get_all(facet.key) for facet in FACETS
    } | {item.key: st.query_params.get_all(item.key) for item in RANGES}


# A page's own parameters (the timeline's patient, a saved cohort's link) survive the
# shell's rewrite of the filter part of the URL.
PAGE_PARAMS = ("patient", "open")


def _write_url(batch: str, filters: Filters) -> None:
    wanted: dict[str, str | list[str]] = {}
    if batch != data.CURRENT:
        wanted[BATCH_KEY] = batch
    wanted.update({key: values for key, values in filters.items() if values})
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    wanted.update({key: current[key] for key in PAGE_PARAMS if key in current})
    normalised = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if current != normalised:
        st.query_params.from_dict(wanted)


# --- banners ---------------------------------------------------------------------------


def run_warning(report: data.RunReport | None) -> str | None:
    if report is None or not report.needs_attention:
        return None
    words = STATUS_WORDS.get(report.status, report.status)
    batch = f" for batch {report.batch_id}" if report.batch_id else ""
    return (
        f"The latest pipeline run ({report.run_id}{batch}) was {words}: "
        f"{report.message or 'no reason recorded'}. "
        "These pages show the last published data; see `oligo status`."
    )


def render_freshness(context: PageContext) -> None:
    info = context.provenance
    if info is None:
        st.caption(f"Batch **{context.batch}** (no provenance recorded)")
    else:
        published = f" · published {info.published_at:%Y-%m-%d %H:%M}" if info.published_at else ""
        frozen = "" if context.batch == data.CURRENT else " (frozen snapshot)"
        st.caption(
            f"Batch **{info.batch_id}**{frozen} · data cut-off **{info.data_cutoff_date}**"
            f"{published} · parameter set `{info.parameter_set}`"
        )
    if context.policy.perturb:
        st.caption(
            ":material/shield: Protected counts: a count below "
            f"{context.policy.threshold} shows as {context.policy.small_label}; other counts "
            f"may differ from the true value by up to ±{context.policy.max_noise} (the same "
            "cell always shows the same value). Exact counts and row-level data need the "
            "analyst role."
        )
    warning = run_warning(data.latest_run())
    if warning:
        st.warning(warning, icon="⚠️")


def render_no_data() -> None:
    where = paths()
    st.title("No published batch yet")
    st.info(
        f"The data folder `{where.home}` has no published batch, so there is nothing to "
        "show yet.\n\n"
        "- To try the dashboards on synthetic data: `make demo` (generates a batch, loads it "
        "and serves these pages).\n"
        f"- To load a registry export placed in `{where.exports}/<batch_id>/`: "
        "`oligo run --batch <batch_id>`, then reload this page.\n"
        "- To look at another data folder, start the app with `OLIGO_HOME` set to it."
    )
    warning = run_warning(data.latest_run())
    if warning:
        st.warning(warning, icon="⚠️")


# --- sidebar ---------------------------------------------------------------------------


def _batch_label(choice: str) -> str:
    return "current (latest cut-off)" if choice == data.CURRENT else f"frozen: {choice}"


@st.cache_data(show_spinner=False, max_entries=16)
def _options(database: str, stamp: tuple) -> dict[str, list[str]]:
    del stamp
    cohort = data.cohort(Path(database))
    return {
        facet.key: facet_counts(cohort, facet).filter(pl.col("n") > 0).collect()["label"].to_list()
        for facet in FACETS
    }


def facet_options(database: Path) -> dict[str, list[str]]:
    return _options(str(database), data._stamp(database))


@st.cache_data(show_spinner=False, max_entries=16)
def _extents(database: str, stamp: tuple) -> dict[str, tuple]:
    del stamp
    cohort = data.cohort(Path(database))
    schema = cohort.collect_schema()
    present = [item for item in RANGES if item.column in schema]
    row = cohort.select(
        *[pl.col(i.column).min().alias(f"{i.key}_min") for i in present],
        *[pl.col(i.column).max().alias(f"{i.key}_max") for i in present],
    ).collect().row(0, named=True)
    return {i.key: (row[f"{i.key}_min"], row[f"{i.key}_max"]) for i in present
            if row[f"{i.key}_min"] is not None}


def render_ranges(database: Path, pending: dict | None) -> Filters:
    """From–to filters (age, diagnosis date, episode date); only a narrowed range filters."""
    chosen: Filters = {}
    for item in RANGES:
        extent = _extents(str(database), data._stamp(database)).get(item.key)
        if extent is None:
            continue
        low, high = extent
        if item.kind == "number":
            low, high = int(low), int(high)
        # One widget per extent: another batch (other extent) starts from its full range.
        key = f"{filter_key(item.key)}_{low}_{high}"
        url = parse_range(item, (pending or {}).get(item.key) or [])
        if url is not None:
            st.session_state[key] = url if item.kind == "date" else tuple(int(v) for v in url)
        elif pending is not None:  # a shared URL or saved cohort without this range
            st.session_state[key] = (low, high)
        value = st.session_state.get(key)
        if not (isinstance(value, tuple) and len(value) == 2):
            value = (low, high)
        value = (max(low, min(value[0], high)), min(high, max(value[1], low)))
        st.session_state[key] = value
        if item.kind == "number":
            picked = st.slider(item.title, min_value=low, max_value=high, key=key)
        else:
            picked = st.date_input(item.title, min_value=low, max_value=high, key=key,
                                   format="YYYY-MM-DD")
        if isinstance(picked, tuple) and len(picked) == 2 and tuple(picked) != (low, high):
            chosen[item.key] = [str(picked[0]), str(picked[1])]
    return chosen


def render_shell(viewer: Viewer) -> PageContext | None:
    """Sidebar and banner; None (after saying what to do) when nothing is published."""
    choices = data.batch_choices()
    if not choices:
        render_no_data()
        return None
    _load_url_once(choices)
    if st.session_state.get(BATCH_KEY) not in choices:
        st.session_state[BATCH_KEY] = choices[0]
    policy = policy_for(viewer.role)
    with st.sidebar:
        batch = st.selectbox("Batch", choices, key=BATCH_KEY, format_func=_batch_label)
        database = data.database_for(batch)
        options = facet_options(database)
        pending = st.session_state.pop(PENDING_FILTERS_KEY, None)
        for facet in FACETS:
            key = filter_key(facet.key)
            if pending is not None:
                st.session_state[key] = pending.get(facet.key, [])
            # Keep only labels this batch has (a shared URL or another batch may differ).
            st.session_state[key] = clean_filters(
                {facet.key: st.session_state.get(key, [])}, options
            ).get(facet.key, [])
        st.subheader("Filters")
        st.caption("Click bars on the study view or choose here; a view's URL can be shared.")
        for facet in FACETS:
            st.multiselect(facet.title, options[facet.key], key=filter_key(facet.key),
                           format_func=partial(facet_word, facet))
        ranges = render_ranges(database, pending)
        st.button("Clear all filters", on_click=clear_filters, width="stretch")
        st.caption(policy.describe)
    filters = {
        facet.key: list(st.session_state[filter_key(facet.key)])
        for facet in FACETS
        if st.session_state[filter_key(facet.key)]
    } | ranges
    _write_url(batch, filters)
    context = PageContext(
        batch=batch,
        database=database,
        provenance=data.provenance(database),
        filters=filters,
        viewer=viewer,
        policy=policy,
    )
    st.session_state[CONTEXT_KEY] = context
    return context


__all__ = ["FACETS_BY_KEY", "PageContext", "page_context", "render_shell"]
