"""Pure figure builders: frames in, Plotly figures out (no Streamlit, no data access).

Counts arrive already protected (`n`, `n_label`, `n_small` from `dashboards.disclosure`):
a small bar is drawn at the threshold's height, hatched, and labelled "<5", so neither its
height nor its hover text gives the count away; other bars are drawn at their shown
(perturbed) value, never the true one.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

SELECTED = "#1f5fa8"
UNSELECTED = "#9bbbe0"
NEUTRAL = "#5b7fa6"
PALETTE = ("#1f5fa8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#8d6e63", "#3d5a80",
           "#b5838d", "#52796f", "#bc6c25", "#4a4e69", "#9c6644")


def facet_bar(counts: pl.DataFrame, *, title: str, selected: list[str], threshold: int) -> go.Figure:
    """Bars of one facet (`label`, `n`, `n_label`, `n_small`); selected labels dark.

    Clicking a bar selects its label (Streamlit `on_select`); `customdata` carries the label.
    """
    protected = counts["n_small"]
    heights = pl.select(
        pl.when(protected).then(pl.lit(threshold)).otherwise(counts["n"])
    ).to_series()
    labels = counts["label"].to_list()
    colors = [
        SELECTED if (not selected or label in selected) else UNSELECTED for label in labels
    ]
    # Long labels (OMD states, strategies) read better on horizontal bars.
    horizontal = bool(labels) and max(len(label) for label in labels) > 12
    values = heights.to_list()
    bar = go.Bar(
        x=values if horizontal else labels,
        y=labels if horizontal else values,
        orientation="h" if horizontal else "v",
        text=counts["n_label"].to_list(),
        textposition="outside",
        customdata=labels,
        hovertemplate="%{customdata}: %{text} episodes<extra></extra>",
        marker={
            "color": colors,
            "pattern": {"shape": ["/" if p else "" for p in protected.to_list()]},
        },
        cliponaxis=False,
    )
    figure = go.Figure(bar)
    category_axis = {"type": "category", "automargin": True}
    value_axis = {"visible": False}
    if horizontal:
        category_axis |= {"autorange": "reversed"}
    figure.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=max(260, 26 * len(labels) + 70) if horizontal else 260,
        margin={"l": 10, "r": 30, "t": 40, "b": 10},
        xaxis=value_axis if horizontal else category_axis | {"tickangle": 0},
        yaxis=category_axis if horizontal else value_axis,
        clickmode="event+select",
        dragmode=False,
        showlegend=False,
    )
    return figure


def cohort_flow(steps: pl.DataFrame) -> go.Figure:
    """Boxes top to bottom (`step`, `n_label`, `excluded_label`): the cohort-flow diagram."""
    n = steps.height
    figure = go.Figure()
    for i, row in enumerate(steps.iter_rows(named=True)):  # a handful of steps, not data rows
        y = n - i
        figure.add_annotation(
            x=0.35, y=y, text=f"<b>{row['step']}</b><br>n = {row['n_label']}",
            showarrow=False, bordercolor=NEUTRAL, borderwidth=1.5, borderpad=8,
            bgcolor="#f3f6fa", width=330, font={"size": 13},
        )
        if i > 0:
            figure.add_annotation(
                x=0.35, y=y + 0.28, ax=0.35, ay=y + 0.72, xref="x", yref="y", axref="x",
                ayref="y", showarrow=True, arrowhead=2, arrowwidth=1.5, arrowcolor=NEUTRAL,
                text="",
            )
            if row.get("excluded_label"):
                figure.add_annotation(
                    x=0.8, y=y + 0.5, text=f"excluded: {row['excluded_label']}",
                    showarrow=False, font={"size": 12, "color": "#6b6b6b"},
                )
    figure.update_layout(
        height=110 * max(n, 1) + 20,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"visible": False, "range": [0, 1]},
        yaxis={"visible": False, "range": [0.4, n + 0.6]},
        plot_bgcolor="white",
    )
    return figure


def _step_xy(part: pl.DataFrame, column: str) -> tuple[list[float], list[float]]:
    return part["time_months"].to_list(), part[column].to_list()


def kaplan_meier_figure(
    curve: pl.DataFrame,
    at_risk: pl.DataFrame,
    *,
    title: str,
    y_title: str,
    groups: list[str],
) -> go.Figure:
    """KM steps with CI bands and censor marks; numbers at risk (`label`) under the plot.

    `curve`: `kaplan_meier` output (group, time_months, survival, ci_lower, ci_upper,
    n_censored); `at_risk`: group, at_months, label (already suppressed).
    """
    figure = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.78, 0.22], vertical_spacing=0.1
    )
    for index, group in enumerate(groups):
        color = PALETTE[index % len(PALETTE)]
        part = curve.filter(pl.col("group") == group).sort("time_months")
        if part.is_empty():
            continue
        x, upper = _step_xy(part, "ci_upper")
        _, lower = _step_xy(part, "ci_lower")
        figure.add_trace(
            go.Scatter(x=x, y=upper, mode="lines", line={"width": 0, "shape": "hv"},
                       hoverinfo="skip", showlegend=False, legendgroup=group),
            row=1, col=1,
        )
        figure.add_trace(
            go.Scatter(x=x, y=lower, mode="lines", line={"width": 0, "shape": "hv"},
                       fill="tonexty", fillcolor=_transparent(color), hoverinfo="skip",
                       showlegend=False, legendgroup=group),
            row=1, col=1,
        )
        xs, ys = _step_xy(part, "survival")
        figure.add_trace(
            go.Scatter(x=xs, y=ys, mode="lines", name=group, legendgroup=group,
                       line={"color": color, "shape": "hv", "width": 2},
                       hovertemplate=f"{group}<br>%{{x:.1f}} months: %{{y:.2f}}<extra></extra>"),
            row=1, col=1,
        )
        censored = part.filter(pl.col("n_censored") > 0)
        figure.add_trace(
            go.Scatter(x=censored["time_months"].to_list(), y=censored["survival"].to_list(),
                       mode="markers", marker={"symbol": "line-ns-open", "size": 7, "color": color},
                       showlegend=False, legendgroup=group, hoverinfo="skip"),
            row=1, col=1,
        )
        risk = at_risk.filter(pl.col("group") == group)
        figure.add_trace(
            go.Scatter(x=risk["at_months"].to_list(), y=[group] * risk.height,
                       text=risk["label"].to_list(), mode="text",
                       textfont={"color": color, "size": 12}, showlegend=False,
                       hoverinfo="skip"),
            row=2, col=1,
        )
    figure.update_yaxes(title_text=y_title, range=[0, 1.02], row=1, col=1)
    figure.update_yaxes(title_text="At risk", type="category", autorange="reversed",
                        categoryorder="array", categoryarray=groups, row=2, col=1)
    # A little room left of 0 so the numbers at risk at time 0 are not cut in half.
    last = max(curve["time_months"].max() or 0.0, at_risk["at_months"].max() or 0.0)
    x_range = [-0.04 * last - 0.5, 1.03 * last + 0.5]
    figure.update_xaxes(title_text="Months", row=2, col=1, range=x_range)
    figure.update_xaxes(showticklabels=True, row=1, col=1, range=x_range)
    figure.update_layout(
        title={"text": title, "y": 0.98}, height=600,
        margin={"l": 10, "r": 10, "t": 90, "b": 10},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        hovermode="closest", plot_bgcolor="white",
    )
    return figure


def _transparent(hex_color: str, alpha: float = 0.15) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
