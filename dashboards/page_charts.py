"""Pure figure builders of the second set of pages (cumulative incidence, toxicity grades,
patient timeline, swimmer plot): frames in, Plotly figures out, no Streamlit."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboards.charts import PALETTE, kaplan_meier_figure
from dashboards.labels import label

STATE_COLOURS = {"oligo": "#2a9d8f", "poly": "#d1495b", "not_omd_diffuse": "#6a4c93"}
MODALITY_MARKERS = {"radiotherapy": "triangle-up", "surgery": "square",
                    "thermal_ablation": "diamond"}


def _censored(curve: pl.DataFrame) -> pl.DataFrame:
    """Censored units at each time: at risk − events − competing − at risk at the next time."""
    return curve.sort("group", "time_days").with_columns(
        n_censored=(
            pl.col("n_at_risk") - pl.col("n_events") - pl.col("n_competing")
            - pl.col("n_at_risk").shift(-1).over("group").fill_null(0)
        ).clip(lower_bound=0)
    )


def cif_figure(curve: pl.DataFrame, at_risk: pl.DataFrame, *, title: str, y_title: str,
               groups: list[str]) -> go.Figure:
    """Cumulative incidence steps with 95% bands, censor ticks, numbers at risk below."""
    shaped = _censored(curve).rename({"cumulative_incidence": "survival"})
    figure = kaplan_meier_figure(shaped, at_risk, title=title, y_title=y_title, groups=groups)
    top = max(float(shaped["ci_upper"].max() or 0.0), float(shaped["survival"].max() or 0.0))
    figure.update_yaxes(range=[0, min(1.0, max(0.1, top * 1.15))], tickformat=".0%",
                        row=1, col=1)
    for trace in figure.data:  # hover text as a percentage
        if trace.hovertemplate and "months" in trace.hovertemplate:
            trace.hovertemplate = trace.hovertemplate.replace("%{y:.2f}", "%{y:.1%}")
    return figure


def grade_bars(counts: pl.DataFrame, *, title: str) -> go.Figure:
    """Stacked worst-grade shares of courses, acute and late (`counts`: window, grade, share)."""
    figure = go.Figure()
    colours = ["#e9ecef", "#b7d3e8", "#7fb0d6", "#e9a03b", "#d1495b", "#5c1a1b"]
    for grade in range(6):
        part = counts.filter(pl.col("grade") == grade)
        figure.add_bar(
            y=part["window"].to_list(), x=part["share"].to_list(), orientation="h",
            name=f"Grade {grade}" if grade else "None recorded", marker_color=colours[grade],
            hovertemplate=f"Grade {grade}: %{{x:.0%}}<extra></extra>",
        )
    figure.update_layout(barmode="stack", height=220, title=title,
                         xaxis={"tickformat": ".0%", "range": [0, 1]},
                         margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.3})
    return figure


def _marker_trace(frame: pl.DataFrame, *, x: str, lane: str, name: str, symbol: str,
                  colour: str, text: str, size: int = 12) -> go.Scatter:
    return go.Scatter(
        x=frame[x].to_list(), y=frame[lane].to_list(), mode="markers", name=name,
        marker={"symbol": symbol, "size": size, "color": colour,
                "line": {"width": 1, "color": "#333"}},
        text=frame[text].to_list(), hovertemplate="%{text}<br>%{x|%Y-%m-%d}<extra></extra>",
    )


def timeline_figure(lanes: dict[str, pl.DataFrame], lane_order: list[str],
                    *, title: str) -> go.Figure:
    """One patient's lanes. `lanes`: 'bars' (lane, start, end, text, colour), 'progression',
    'treatments', 'assessments', 'episodes', 'end' (lane, date, text, + symbol/colour)."""
    figure = go.Figure()
    bars = lanes["bars"]
    # A bar is a thick line from start to end, one trace per kind (not per row).
    for kind, part in bars.group_by("kind", maintain_order=True):
        xs, ys, texts = [], [], []
        for row in part.iter_rows(named=True):  # a patient's few lesions and lines
            xs += [row["start"], row["end"], None]
            ys += [row["lane"], row["lane"], None]
            texts += [row["text"], row["text"], None]
        figure.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", name=kind[0], text=texts,
            line={"width": 12, "color": part["colour"][0]}, opacity=0.55,
            hovertemplate="%{text}<extra></extra>",
        ))
    if lanes["progression"].height:
        figure.add_trace(_marker_trace(lanes["progression"], x="date", lane="lane",
                                       name="Progression", symbol="x", colour="#d1495b",
                                       text="text", size=13))
    treatments = lanes["treatments"]
    for modality, symbol in MODALITY_MARKERS.items():
        part = treatments.filter(pl.col("modality") == modality)
        if part.height:
            figure.add_trace(_marker_trace(part, x="date", lane="lane",
                                           name=label("modality", modality), symbol=symbol,
                                           colour="#1f5fa8", text="text"))
    assessments = lanes["assessments"]
    for state, colour in STATE_COLOURS.items():
        part = assessments.filter(pl.col("state") == state)
        if part.height:
            figure.add_trace(_marker_trace(part, x="date", lane="lane",
                                           name=f"Assessment: {label('assessment_state', state)}",
                                           symbol="circle", colour=colour, text="text", size=10))
    if lanes["episodes"].height:
        figure.add_trace(_marker_trace(lanes["episodes"], x="date", lane="lane",
                                       name="OMD episode", symbol="star", colour="#e9a03b",
                                       text="text", size=15))
    end = lanes["end"]
    if end.height:
        row = end.row(0, named=True)
        figure.add_trace(_marker_trace(end, x="date", lane="lane", name=row["name"],
                                       symbol=row["symbol"], colour=row["colour"], text="text",
                                       size=14))
    figure.update_yaxes(type="category", categoryorder="array",
                        categoryarray=list(reversed(lane_order)), automargin=True)
    figure.update_xaxes(type="date", tickformat="%Y-%m", title_text="Date")
    figure.update_layout(title=title, height=max(320, 34 * len(lane_order) + 140),
                         margin={"l": 10, "r": 10, "t": 50, "b": 10}, plot_bgcolor="white",
                         legend={"orientation": "h", "y": -0.15}, hovermode="closest")
    return figure


def swimmer_figure(rows: pl.DataFrame, *, title: str) -> go.Figure:
    """One bar per patient (months from the first OMD episode to death or censoring),
    coloured by treatment strategy; markers for LCT start and progression; ✕ death,
    ▶ alive at the last contact."""
    figure = go.Figure()
    names = rows["patient_id"].str.slice(0, 8).to_list()
    rows = rows.with_columns(name=pl.Series(names))
    for index, (treatment, part) in enumerate(rows.group_by("treatment", maintain_order=True)):
        figure.add_bar(x=part["months"].to_list(), y=part["name"].to_list(), orientation="h",
                       name=treatment[0], marker_color=PALETTE[index % len(PALETTE)],
                       opacity=0.7, hovertemplate="%{y}: %{x:.1f} months<extra></extra>")
    lct = rows.filter(pl.col("lct_months").is_not_null())
    figure.add_scatter(x=lct["lct_months"].to_list(), y=lct["name"].to_list(), mode="markers",
                       name="Local therapy starts", marker={"symbol": "triangle-up", "size": 9,
                                                            "color": "#1f2d3d"})
    progression = rows.filter(pl.col("progression_months").is_not_null())
    figure.add_scatter(x=progression["progression_months"].to_list(),
                       y=progression["name"].to_list(), mode="markers", name="Progression",
                       marker={"symbol": "x", "size": 9, "color": "#d1495b"})
    for died, symbol, name in ((True, "x-thin-open", "Death"),
                               (False, "arrow-right", "Alive at last contact")):
        part = rows.filter(pl.col("died") == died)
        figure.add_scatter(x=part["months"].to_list(), y=part["name"].to_list(),
                           mode="markers", name=name,
                           marker={"symbol": symbol, "size": 10, "color": "#333",
                                   "line": {"width": 2}})
    figure.update_yaxes(type="category", categoryorder="array",
                        categoryarray=list(reversed(names)), title_text="Patient (pseudonym)")
    figure.update_xaxes(title_text="Months from the first OMD episode", rangemode="tozero")
    figure.update_layout(title=title, barmode="overlay", height=max(360, 18 * len(names) + 140),
                         margin={"l": 10, "r": 10, "t": 50, "b": 10}, plot_bgcolor="white",
                         legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"})
    return figure
