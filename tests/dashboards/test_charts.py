"""The study view's figure builders (dashboards/charts.py): what the browser receives."""

from __future__ import annotations

import polars as pl

from dashboards import charts


def _counts() -> pl.DataFrame:
    return pl.DataFrame({
        "label": ["lct_all_sites", "lct_partial", "none"],
        "n": [120, None, 7],
        "n_label": ["120", "<5", "7"],
        "n_small": [False, True, False],
    })


def test_facet_bar_sends_only_shown_values_and_draws_small_counts_at_the_threshold():
    spec = charts.facet_bar(_counts(), title="Treatment strategy", selected=["none"],
                            threshold=5, display=str.upper)
    rows = spec["data"]["values"]
    assert [r["height"] for r in rows] == [120, 5, 7]
    assert [r["text"] for r in rows] == ["120", "<5", "7"]
    assert [r["small"] for r in rows] == [False, True, False]
    assert rows[1]["describe"] == "LCT_PARTIAL: <5 OMD episodes"  # what a screen reader says
    assert [r["word"] for r in rows] == ["LCT_ALL_SITES", "LCT_PARTIAL", "NONE"]
    assert [r["colour"] for r in rows] == [charts.UNSELECTED, charts.UNSELECTED,
                                           charts.SELECTED]
    assert set(rows[0]) == {"label", "word", "height", "text", "small", "colour", "describe"}
    bar_layer = spec["layer"][0]
    assert bar_layer["params"][0]["name"] == charts.SELECTION
    assert bar_layer["params"][0]["select"] == {"type": "point", "fields": ["label"]}
    assert bar_layer["params"][0]["value"] == [{"label": "none"}]  # shift-click adds to it
    assert "y" in spec["encoding"] and spec["encoding"]["y"]["field"] == "word"  # long words


def test_facet_bar_without_selection_shows_every_bar_selected_and_short_labels_upright():
    counts = pl.DataFrame({"label": ["0", "1"], "n": [10, 12], "n_label": ["10", "12"],
                           "n_small": [False, False]})
    spec = charts.facet_bar(counts, title="ECOG", selected=[], threshold=5)
    assert {r["colour"] for r in spec["data"]["values"]} == {charts.SELECTED}
    assert spec["encoding"]["x"]["field"] == "word"


def test_selected_labels_reads_the_point_selection():
    state = {"selection": {charts.SELECTION: [{"label": "b"}, {"label": "a"},
                                              {"label": "b"}]}}
    assert charts.selected_labels(state) == ["b", "a"]
    assert charts.selected_labels({"selection": {charts.SELECTION: []}}) == []
    assert charts.selected_labels(None) == []


def test_flow_boxes_escape_markdown_and_name_the_exclusions():
    steps = pl.DataFrame({
        "step": ["patients in the registry", "NSCLC *only* [x]"],
        "n_label": ["1,000", "<5"],
        "excluded_label": [None, "not shown (a step below the minimum cell size)"],
    })
    first, second = charts.flow_boxes(steps)
    assert first == "**patients in the registry**  \nn = 1,000"
    assert second.startswith("**NSCLC \\*only\\* \\[x\\]**  \nn = \\<5  \n:gray[excluded")
    assert "not shown \\(a step below the minimum cell size\\)" in second
    assert charts.markdown_text(":material/home: a_b") == "\\:material/home\\: a\\_b"


def test_table_one_html_names_each_characteristic_once_and_escapes_every_cell():
    from dashboards.table_one_display import html_table

    table = pl.DataFrame({
        "Characteristic": ["n", "Sex", "Sex"],
        "Level": ["episodes", "Female", "<b>Male</b>"],
        "Overall": ["40", "21 (52%)", "<5"],
    })
    html = html_table(table)
    assert html.count('rowspan="2"') == 1 and html.count(">Sex<") == 1
    assert "&lt;b&gt;Male&lt;/b&gt;" in html and "<b>" not in html
    assert "&lt;5" in html
    assert html.count("<tr>") == 4  # header and three rows
    again = pl.concat([table, table.head(1)])  # "n" again after "Sex": a block of its own
    assert html_table(again).count('rowspan="1"') == 2
