"""Pure figure builders: frames in, figures out (no Streamlit, no data access). The study
view's bars are Vega-Lite specs and its cohort flow is Markdown (both light for the
browser); the survival curves are Plotly figures.

Counts arrive already protected (`n`, `n_label`, `n_small` from `dashboards.disclosure`):
a small bar is drawn at the threshold's height, pale with a dashed outline, and labelled
"<5", so neither its height nor its tooltip gives the count away; other bars are drawn at
their shown (perturbed) value, never the true one.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

SELECTED = "#1f5fa8"
UNSELECTED = "#9bbbe0"
SELECTION = "pick"  # the facet charts' point selection
MARKDOWN_PUNCTUATION = set("\\`*_{}[]()#+-.!|<>~$:")
PALETTE = ("#1f5fa8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#8d6e63", "#3d5a80",
           "#b5838d", "#52796f", "#bc6c25", "#4a4e69", "#9c6644")


def facet_bar(counts: pl.DataFrame, *, title: str, selected: list[str], threshold: int,
              display=None) -> dict:
    """A Vega-Lite spec of one facet's bars (`label`, `n`, `n_label`, `n_small`); selected
    labels dark. Vega-Lite, not Plotly: the study view opens with these charts, and
    Plotly's 4.6 MB script costs a new session about a second before anything in the page
    is drawn (docs/dashboards.md, Speed).

    Clicking a bar selects its label (point selection `SELECTION`, field `label`, shift-click
    for several; Streamlit `on_select`). The data sent holds only shown values: `height`
    (the threshold for a small count), `text` (the shown count or "<5"), `small`.
    """
    protected = counts["n_small"].to_list()
    labels = counts["label"].to_list()
    # Words on the axis (`display`: code -> words); the code stays the selection's value.
    words = [display(label) for label in labels] if display else labels
    heights = [threshold if small else (n or 0)
               for small, n in zip(protected, counts["n"].to_list(), strict=True)]
    rows = [
        {"label": label, "word": word, "height": height, "text": text, "small": small,
         "colour": SELECTED if (not selected or label in selected) else UNSELECTED,
         "describe": f"{word}: {text} OMD episodes"}
        for label, word, height, text, small in zip(
            labels, words, heights, counts["n_label"].to_list(), protected, strict=True)
    ]
    # Long labels (OMD states, strategies) read better on horizontal bars.
    horizontal = bool(words) and max(len(word) for word in words) > 12
    category = {"field": "word", "type": "nominal", "sort": None, "title": None,
                "axis": {"labelLimit": 240, "labelAngle": 0, "ticks": False}}
    # Room for the count written at the end of the longest bar.
    value = {"field": "height", "type": "quantitative", "axis": None,
             "scale": {"domain": [0, max(heights, default=1) * 1.18 or 1]}}
    selection = {"name": SELECTION, "select": {"type": "point", "fields": ["label"]}}
    chosen = [label for label in labels if label in selected]
    if chosen:  # the current filter starts selected, so a shift-click adds to it
        selection["value"] = [{"label": label} for label in chosen]
    text_mark = ({"type": "text", "align": "left", "baseline": "middle", "dx": 3}
                 if horizontal else {"type": "text", "baseline": "bottom", "dy": -2})
    return {
        "title": {"text": title, "fontSize": 14, "anchor": "start"},
        "height": 26 * len(labels) if horizontal else 190,
        "data": {"values": rows},
        "encoding": {"y": category, "x": value} if horizontal else {"x": category, "y": value},
        "layer": [
            {
                "mark": {"type": "bar", "cursor": "pointer", "strokeWidth": 1.5},
                "params": [selection],
                "encoding": {
                    "color": {"field": "colour", "type": "nominal", "scale": None,
                              "legend": None},
                    "stroke": {"field": "colour", "type": "nominal", "scale": None,
                               "legend": None},
                    # A small count: drawn at the threshold's height, pale and dashed.
                    "fillOpacity": {"condition": {"test": "datum.small", "value": 0.25},
                                    "value": 1},
                    "strokeDash": {"condition": {"test": "datum.small", "value": [4, 2]},
                                   "value": [1, 0]},
                    "tooltip": [{"field": "word", "title": title},
                                {"field": "text", "title": "OMD episodes"}],
                    # What a screen reader says of a bar: its words and shown count.
                    "description": {"field": "describe"},
                },
            },
            {"mark": text_mark, "encoding": {"text": {"field": "text"}}},
        ],
        # Fit the column's width; the height is the bars' own (one band per label). The
        # right padding holds the longest count written past a bar's end (never cut to
        # "1,5" in a narrow column).
        "autosize": {"type": "fit-x", "contains": "padding"},
        "padding": {"left": 0, "bottom": 0, "top": 4 if horizontal else 16,
                    "right": 8 + 7 * max((len(str(r["text"])) for r in rows), default=0)
                    if horizontal else 4},
        "config": {"view": {"stroke": None}},
    }


def selected_labels(state: dict | None) -> list[str]:
    """The labels picked on a `facet_bar` chart, from its Streamlit selection state."""
    points = ((state or {}).get("selection") or {}).get(SELECTION) or []
    return list(dict.fromkeys(str(p["label"]) for p in points if p.get("label") is not None))


def flow_boxes(steps: pl.DataFrame) -> list[str]:
    """The cohort-flow diagram as one Markdown text per box, top to bottom (`step`,
    `n_label`, `excluded_label`): drawn with Streamlit's own bordered containers, so the
    page needs no chart script for it."""
    boxes = []
    for row in steps.iter_rows(named=True):  # a handful of steps, not data rows
        text = f"**{markdown_text(row['step'])}**  \nn = {markdown_text(row['n_label'])}"
        if row.get("excluded_label"):
            text += f"  \n:gray[excluded from the step above: {markdown_text(row['excluded_label'])}]"
        boxes.append(text)
    return boxes


def markdown_text(text: str) -> str:
    """Plain text safe inside Streamlit Markdown (punctuation escaped, no emoji codes)."""
    return "".join("\\" + c if c in MARKDOWN_PUNCTUATION else c for c in str(text))


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
