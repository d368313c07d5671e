"""The seven differencing attacks of issue 16, scripted against the real pages (AppTest
through the router), with the hidden true values computed independently by DuckDB SQL on
the published file.

Each attack finds its instances (hidden cells) on a warehouse, reads only what the pages
show (metrics, bar labels, the cohort-flow boxes, Table 1, the survival table, the curve
and the numbers at risk, the episode list), makes its best estimate of each hidden value
and reports how often the estimate is exactly the true value.

    python -m tests.dashboards.fixtures --home /tmp/oligo-attacks
    python -m tests.dashboards.attacks --home /tmp/oligo-attacks [--app path/to/app.py]

`--app` lets the same script run against another checkout's router (the code before the
disclosure layer), in a process whose working directory is that checkout. The test
`test_attacks.py` runs a smaller set of instances and asserts the outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from dashboards import labels as code_labels

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
SURVIVAL = "views/survival.py"
FACET_COLUMNS = {  # facet key → SQL label expression (independent of dashboards/filters.py)
    "omd_state": "coalesce(omd_state, 'unknown')",
    "timing": "CASE WHEN is_synchronous THEN 'synchronous' WHEN NOT is_synchronous "
    "THEN 'metachronous' ELSE 'unknown' END",
    "n_lesions": "coalesce(n_lesions::VARCHAR, 'unknown')",
    "n_organs": "coalesce(n_organs::VARCHAR, 'unknown')",
    "histology_group": "coalesce(histology_group, 'unknown')",
    "driver_status": "coalesce(driver_status, 'unknown')",
    "pdl1_category": "coalesce(pdl1_category, 'unknown')",
    "ecog_at_diagnosis": "coalesce(ecog_at_diagnosis::VARCHAR, 'unknown')",
    "center_id": "coalesce(center_id, 'unknown')",
    "diagnosis_year": "coalesce(diagnosis_year::VARCHAR, 'unknown')",
    "treatment_strategy": "coalesce(treatment_strategy, 'unknown')",
}
FACET_TITLES = {
    "OMD state": "omd_state", "Synchronous or metachronous": "timing", "Lesions": "n_lesions",
    "Organs involved (number)": "n_organs", "Organs involved": "organs",
    "Histology group": "histology_group", "Driver": "driver_status", "PD-L1": "pdl1_category",
    "ECOG at diagnosis": "ecog_at_diagnosis", "Centre": "center_id",
    "Diagnosis year": "diagnosis_year", "Treatment strategy": "treatment_strategy",
}
TABLE_ONE_SQL = {
    "Sex": "coalesce(sex, 'unknown')", "Smoking": "coalesce(smoking_status, 'unknown')",
    "Histology group": "coalesce(histology_group, 'unknown')",
    "Driver": "coalesce(driver_status, 'unknown')", "PD-L1": "coalesce(pdl1_category, 'unknown')",
    "Stage at diagnosis": "coalesce(stage_group, 'unknown')",
}
TABLE_ONE_COLUMNS = {"Sex": "sex", "Smoking": "smoking_status",
                     "Histology group": "histology_group", "Driver": "driver_status",
                     "PD-L1": "pdl1_category", "Stage at diagnosis": "stage_group"}
Filters = dict[str, list[str]]
THRESHOLD = 5


def code_of(column: str, words: str) -> str:
    """The stored code behind a label the pages show (dashboards/labels.py), for SQL."""
    inverse = {w: c for c, w in code_labels.labels_for(column).items()}
    return inverse.get(words, words.lower().replace(" ", "_"))


# --- reading the pages ----------------------------------------------------------------------


def number(text: str | None) -> int | None:
    """A shown count as an int; None for '<5', 'hidden', '—' and other non-numbers."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*([\d,]+)(\s*\(.*\))?\s*", str(text))
    return int(match.group(1).replace(",", "")) if match else None


def charts(at: AppTest) -> list[dict]:
    """The Plotly figures of a page (survival curves; the study view's bars before they
    were Vega-Lite)."""
    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def vega_charts(at: AppTest) -> list[tuple[dict, list[dict]]]:
    """(spec, data rows) of each Vega-Lite chart: the data as the browser receives it
    (Arrow, moved out of the spec by Streamlit)."""
    out = []
    for element in at.get("vega_lite_chart"):
        data = element.proto.data.data
        rows = pa.ipc.open_stream(data).read_all().to_pylist() if data else []
        out.append((json.loads(element.proto.spec), rows))
    return out


def _title(spec: dict) -> str | None:
    title = spec.get("title")
    return title.get("text") if isinstance(title, dict) else title


def bars(at: AppTest) -> dict[str, dict[str, str]]:
    """{facet key: {label: shown text}} of the study view's bar charts."""
    out: dict[str, dict[str, str]] = {}
    for spec, rows in vega_charts(at):
        if _title(spec) in FACET_TITLES:
            out[FACET_TITLES[_title(spec)]] = {row["label"]: row["text"] for row in rows}
    for spec in charts(at):  # a checkout whose bars are Plotly figures (--app)
        title = _title(spec.get("layout") or {})
        for trace in spec["data"]:
            if trace.get("type") == "bar" and title in FACET_TITLES:
                out[FACET_TITLES[title]] = dict(zip(trace["customdata"], trace["text"],
                                                    strict=True))
    return out


FLOW_BOX = re.compile(  # one box of dashboards.charts.flow_boxes
    r"\*\*(.*)\*\*  \nn = (.*?)(?:  \n:gray\[excluded from the step above: (.*)\])?"
)


def _plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def flow(at: AppTest) -> list[tuple[str, str, str | None]]:
    """[(step, n text, excluded text)] of the cohort-flow diagram, top to bottom."""
    steps = []
    for element in at.markdown:
        if match := FLOW_BOX.fullmatch(element.value):
            step, n_text, excluded = match.groups()
            steps.append((_plain(step), _plain(n_text), excluded and _plain(excluded)))
    return steps or _plotly_flow(at)


def _plotly_flow(at: AppTest) -> list[tuple[str, str, str | None]]:
    """The cohort flow of a checkout that drew it as a Plotly figure (--app)."""
    for spec in charts(at):
        notes = (spec.get("layout") or {}).get("annotations") or []
        boxes = [n for n in notes if "n = " in (n.get("text") or "")]
        if not boxes:
            continue
        excluded = {round(n["y"] - 0.5, 3): n["text"].removeprefix("excluded: ")
                    for n in notes if (n.get("text") or "").startswith("excluded: ")}
        steps = []
        for box in sorted(boxes, key=lambda n: -n["y"]):
            step, n_text = re.match(r"<b>(.*)</b><br>n = (.*)", box["text"]).groups()
            steps.append((step, n_text, excluded.get(round(box["y"], 3))))
        return steps
    return []


def frame_with(at: AppTest, column: str):
    """The first table of the page (a data grid, or a static HTML table such as Table 1)
    with `column`, as a pandas frame."""
    frames = [d.value for d in at.dataframe] + html_tables(at)
    return next((frame for frame in frames if column in frame.columns), None)


class _TableParser(HTMLParser):
    """Rows of each <table>, a rowspan cell repeated on the rows it spans."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.pending: dict[int, tuple[str, int]] = {}  # column → (text, rows still to fill)
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.span = 1

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.row = []
            self._fill()
        elif tag in ("td", "th"):
            self.cell, self.span = [], int(dict(attrs).get("rowspan") or 1)

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            text = "".join(self.cell)
            if self.span > 1:
                self.pending[len(self.row)] = (text, self.span - 1)
            self.row.append(text)
            self.cell = None
            self._fill()
        elif tag == "tr" and self.row is not None:
            self.tables[-1].append(self.row)
            self.row = None

    def _fill(self) -> None:
        while (column := len(self.row)) in self.pending:
            text, left = self.pending.pop(column)
            self.row.append(text)
            if left > 1:
                self.pending[column] = (text, left - 1)


def html_tables(at: AppTest) -> list[pd.DataFrame]:
    """Each static HTML table of the page (`st.html`) as a pandas frame of its text."""
    frames = []
    for element in at.get("html"):
        parser = _TableParser()
        parser.feed(element.proto.body)
        for header, *rows in (t for t in parser.tables if t):
            frames.append(pd.DataFrame(rows, columns=header))
    return frames


def metric(at: AppTest, label: str) -> str | None:
    return next((m.value for m in at.metric if m.label == label), None)


def km_traces(at: AppTest) -> dict[str, dict]:
    """{group: {'y': survival steps, 'risk': {months: text}, 'censored': n marks}}."""
    out: dict[str, dict] = {}
    for spec in charts(at):
        data = spec["data"]
        if not any(t.get("yaxis") == "y2" and t.get("mode") == "text" for t in data):
            continue
        for trace in data:
            name = trace.get("name") or trace.get("legendgroup")
            if trace.get("mode") == "lines" and trace.get("name"):
                out.setdefault(name, {})["y"] = trace["y"]
                out[name]["x"] = trace["x"]
            elif trace.get("mode") == "markers" and trace.get("legendgroup"):
                out.setdefault(trace["legendgroup"], {})["censored"] = trace["x"]
            elif trace.get("mode") == "text":
                group = trace["y"][0] if trace.get("y") else None
                if group is not None:
                    out.setdefault(group, {})["risk"] = dict(zip(trace["x"], trace["text"],
                                                                 strict=True))
    return out


# --- ground truth (SQL on the published file) -----------------------------------------------


class Truth:
    def __init__(self, database: Path):
        self.database = database

    def where(self, filters: Filters) -> str:
        parts = []
        for key, values in filters.items():
            quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
            if key == "organs":
                parts.append("(" + " OR ".join(f"has_{v}" for v in values) + ")")
            else:
                parts.append(f"{FACET_COLUMNS[key]} IN ({quoted})")
        return " AND ".join(parts) or "TRUE"

    def value(self, query: str) -> int:
        with duckdb.connect(str(self.database), read_only=True) as con:
            return int(con.execute(query).fetchone()[0])

    def rows(self, query: str) -> list[tuple]:
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(query).fetchall()

    def distinct(self, column: str) -> list[str]:
        """Values of a cohort column, most frequent first (the warehouse's own labels)."""
        return [v for (v,) in self.rows(
            f"SELECT {column} FROM marts.episode_cohort WHERE {column} IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC, 1")]

    @property
    def centres(self) -> list[str]:
        return self.distinct("center_id")

    @property
    def histologies(self) -> list[str]:
        return self.distinct("histology_group")

    @property
    def strategies(self) -> list[str]:
        return self.distinct("treatment_strategy")

    def episodes(self, filters: Filters, extra: str = "TRUE") -> int:
        return self.value(f"SELECT count(*) FROM marts.episode_cohort WHERE {self.where(filters)}"
                          f" AND {extra}")

    def patients(self, filters: Filters) -> int:
        return self.value("SELECT count(DISTINCT patient_id) FROM marts.episode_cohort WHERE "
                          + self.where(filters))

    def bar(self, filters: Filters, facet: str, label: str) -> int:
        if facet == "organs":
            return self.episodes(filters, f"coalesce(has_{label}, false)")
        quoted = "'" + label.replace("'", "''") + "'"
        return self.episodes(filters, f"{FACET_COLUMNS[facet]} = {quoted}")

    def survival_groups(self, filters: Filters) -> dict[str, tuple[int, int]]:
        """OS from the episode date, first episodes, by treatment strategy: {group: (n, events)}."""
        rows = self.rows(
            "SELECT coalesce(c.treatment_strategy, 'unknown'), count(*), "
            "count(*) FILTER (o.os_event) FROM marts.episode_cohort c JOIN "
            "marts.episode_outcomes o USING (episode_id) WHERE o.origin = 'episode' AND "
            f"c.is_first_episode AND o.os_days IS NOT NULL AND {self.where(filters)} GROUP BY 1"
        )
        return {g: (n, e) for g, n, e in rows}


# --- running pages ----------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    instances: int = 0
    recovered: int = 0  # estimate exactly equal to the hidden true value
    estimated: int = 0  # an estimate could be made at all
    truths: list[int] = field(default_factory=list)  # of the estimated instances

    @property
    def rate(self) -> float:
        return self.recovered / self.instances if self.instances else 0.0

    def add(self, truth: int, estimate: int | None, *, known_small: bool = False) -> None:
        """`known_small`: the page says the cell is below the minimum size, so the attacker
        clamps the estimate into 1..threshold−1."""
        self.instances += 1
        if estimate is not None and known_small:
            estimate = min(max(estimate, 1), THRESHOLD - 1)
        if estimate is not None:
            self.estimated += 1
            self.recovered += int(estimate == truth)
            self.truths.append(truth)

    @property
    def exact_among_estimates(self) -> float:
        return self.recovered / self.estimated if self.estimated else 0.0

    @property
    def blind_guess(self) -> float:
        """Hit rate of the best constant guess (knowing no page at all) on the same cells."""
        if not self.truths:
            return 0.0
        return max(self.truths.count(v) for v in set(self.truths)) / len(self.truths)

    def line(self) -> str:
        return (f"{self.name}: {self.recovered}/{self.instances} hidden values recovered exactly "
                f"({100 * self.rate:.0f}%); an estimate was possible for {self.estimated}, "
                f"exact in {100 * self.exact_among_estimates:.0f}% of those (best blind guess "
                f"{100 * self.blind_guess:.0f}%)")


class Pages:
    """Runs the router in AppTest with filters in the URL, as a shared link would."""

    def __init__(self, app: Path, home: Path, role: str = "aggregate"):
        self.app, self.home, self.role = app, home, role
        self.runs = 0

    def open(self, filters: Filters, *, page: str | None = None,
             widgets: Callable[[AppTest], None] | None = None) -> AppTest:
        os.environ["OLIGO_HOME"] = str(self.home)
        os.environ["OLIGO_DEMO_ROLE"] = self.role
        at = AppTest.from_file(str(self.app), default_timeout=180)
        for key, values in filters.items():
            at.query_params[key] = values
        if page:
            at.switch_page(page)
        at.run()
        if page is None:  # the study view: every chart, not only the three it opens with
            at.toggle(key="study_all_charts").set_value(True).run()
        if widgets:
            widgets(at)
        self.runs += 1
        if at.exception:
            raise RuntimeError(f"page raised: {[e.message for e in at.exception]}")
        return at


def small(n: int, threshold: int = THRESHOLD) -> bool:
    return 0 < n < threshold


# --- the seven attacks ------------------------------------------------------------------------


def attack_flow(pages: Pages, truth: Truth, limit: int) -> Outcome:
    """(1) Cohort flow: previous step − 'excluded' = the hidden filtered patient count."""
    out = Outcome("1 cohort flow (previous step − excluded)")
    states = truth.distinct("omd_state")[::-1]  # rarest first
    candidates = [{"center_id": [c], "omd_state": [s]} for c in truth.centres for s in states]
    for filters in candidates:
        hidden = truth.patients(filters)
        if not small(hidden):
            continue
        steps = flow(pages.open(filters))
        estimate = None
        if len(steps) >= 2:
            previous, last = number(steps[-2][1]), steps[-1]
            excluded = number(last[2])
            if previous is not None and excluded is not None:
                estimate = previous - excluded
        out.add(hidden, estimate, known_small=True)
        if out.instances >= limit:
            break
    return out


def attack_multiselect(pages: Pages, truth: Truth, limit: int) -> Outcome:
    """(2) Bars under centre=[Y] and centre=[Y, X]: their difference is X's hidden cell."""
    out = Outcome("2 multi-select difference (centre Y vs Y+X)")
    for base in ({}, {"histology_group": ["squamous"]}, {"treatment_strategy": ["none"]}):
        centres = truth.centres
        for target in centres[::-1][:2]:  # the two smallest centres
            for other in centres[:2]:
                one = bars(pages.open(base | {"center_id": [other]}))
                both = bars(pages.open(base | {"center_id": [other, target]}))
                for facet, labels in both.items():
                    if facet == "center_id":
                        continue
                    for label, text in labels.items():
                        hidden = truth.bar(base | {"center_id": [target]}, facet, label)
                        if not small(hidden):
                            continue
                        a, b = number(text), number(one.get(facet, {}).get(label, "0"))
                        out.add(hidden, None if a is None or b is None else a - b,
                                known_small=True)
                if out.instances >= limit:
                    return out
    return out


def attack_cross_chart(pages: Pages, truth: Truth, limit: int) -> Outcome:
    """(3) 'unknown' timing = episodes − synchronous (from the OMD-state chart if hidden in
    its own) − metachronous."""
    out = Outcome("3 cross-chart (timing vs OMD state)")
    filters_list = ([{"center_id": [c]} for c in truth.centres]
                    + [{"histology_group": [h]} for h in truth.histologies]
                    + [{"treatment_strategy": [s]} for s in truth.strategies]
                    + [{"center_id": [c], "treatment_strategy": [s]} for c in truth.centres
                       for s in truth.strategies])
    for filters in filters_list:
        hidden = truth.bar(filters, "timing", "unknown")
        if not small(hidden):
            continue
        at = pages.open(filters)
        shown = bars(at)
        timing, states = shown.get("timing", {}), shown.get("omd_state", {})
        episodes = number(metric(at, "OMD episodes"))
        sync = number(timing.get("synchronous", "0"))
        if sync is None:
            sync = number(states.get("synchronous_omd", "0"))
        meta = number(timing.get("metachronous", "0"))
        parts = (episodes, sync, meta)
        out.add(hidden, None if None in parts else episodes - sync - meta, known_small=True)
        if out.instances >= limit:
            break
    return out


def attack_table_one(pages: Pages, truth: Truth, limit: int) -> Outcome:
    """(4) Table 1 regrouped: a hidden (group, level) cell = the ungrouped cell − the other
    groups' cells."""
    out = Outcome("4 Table 1 regrouped")

    def ungrouped(at: AppTest) -> None:
        at.selectbox(key="table_one_group").set_value("(none)").run()

    filters_list = [{"center_id": [c]} for c in truth.centres] + [{}]
    for filters in filters_list:
        grouped = frame_with(pages.open(filters), "Characteristic")
        whole = frame_with(pages.open(filters, widgets=ungrouped), "Characteristic")
        if grouped is None or whole is None:
            continue
        groups = [c for c in grouped.columns if c not in ("Characteristic", "Level", "Overall")]
        for variable, sql in TABLE_ONE_SQL.items():
            rows = grouped[grouped["Characteristic"] == variable]
            for _, row in rows.iterrows():
                level = code_of(TABLE_ONE_COLUMNS[variable], row["Level"])
                for group in groups:
                    quoted = "'" + level.replace("'", "''") + "'"
                    hidden = truth.episodes(
                        filters | {"treatment_strategy": [code_of("treatment_strategy", group)]},
                        f"{sql} = {quoted}",
                    )
                    if not small(hidden):
                        continue
                    total = whole[(whole["Characteristic"] == variable)
                                  & (whole["Level"] == row["Level"])]
                    estimate = number(total.iloc[0, 2]) if len(total) else None
                    for other in groups:
                        if other == group or estimate is None:
                            continue
                        value = number(row[other])
                        estimate = None if value is None else estimate - value
                    out.add(hidden, estimate, known_small=True)
        if out.instances >= limit:
            break
    return out


def survival_views(pages: Pages, truth: Truth, filters_list: list[Filters]
                   ) -> Iterator[tuple[Filters, AppTest, dict[str, tuple[int, int]]]]:
    def by_strategy(at: AppTest) -> None:  # the page opens as the landmark analysis
        at.toggle(key="survival_landmark").set_value(False).run()

    for filters in filters_list:
        # Keyed by the words the page shows for each treatment strategy.
        groups = {code_labels.label("treatment_strategy", code): value
                  for code, value in truth.survival_groups(filters).items()}
        yield filters, pages.open(filters, page=SURVIVAL, widgets=by_strategy), groups


def attack_at_risk(pages: Pages, truth: Truth, views) -> Outcome:
    """(5) A group's n not shown exactly in the table = its number at risk at month 0."""
    out = Outcome("5 survival n vs number at risk at month 0")
    for _filters, at, groups in views:
        table = frame_with(at, "Median, months (95% CI)")
        curves = km_traces(at)
        if table is None:  # nothing estimated: every group's n stays hidden
            for n_true, _events in groups.values():
                out.add(n_true, None)
            continue
        for _, row in table.iterrows():
            n_true = groups.get(row["Group"], (None, None))[0]
            if n_true is None or number(row["Episodes"]) == n_true:
                continue  # shown exactly: nothing hidden to recover
            risk = curves.get(row["Group"], {}).get("risk", {})
            at_zero = next((t for m, t in risk.items() if float(m) == 0.0), None)
            out.add(n_true, number(at_zero))
    return out


def invert_km(n: int, times: list[float], survival: list[float], censored: list[float]) -> int:
    """Events from a drawn KM curve: at each drop, d = r·(1 − S/S_prev); r falls by the
    events and by one per censoring mark before the next time."""
    at_risk, events, previous = n, 0, 1.0
    marks = sorted(censored)
    for time, value in sorted(zip(times, survival, strict=True)):
        while marks and marks[0] < time:
            at_risk -= 1
            marks.pop(0)
        if value < previous - 1e-12 and previous > 0:
            died = round(at_risk * (1 - value / previous))
            events += died
            at_risk -= died
        previous = value
    return events


def attack_km_steps(pages: Pages, truth: Truth, views) -> Outcome:
    """(6) Hidden event counts of small groups read off the steps of their KM curve."""
    out = Outcome("6 KM steps of small groups")
    for _filters, at, groups in views:
        table = frame_with(at, "Median, months (95% CI)")
        curves = km_traces(at)
        if table is None:  # no curve at all: small event counts stay hidden
            for _n, events_true in groups.values():
                if small(events_true):
                    out.add(events_true, None)
            continue
        for _, row in table.iterrows():
            n_true, events_true = groups.get(row["Group"], (None, None))
            if n_true is None or not small(events_true) or number(row["Events"]) == events_true:
                continue
            curve = curves.get(row["Group"], {})
            n = number(row["Episodes"])
            estimate = None
            if curve.get("y") and n is not None:
                estimate = invert_km(n, curve["x"], curve["y"], curve.get("censored", []))
            out.add(events_true, estimate, known_small=True)
    return out


def attack_rows(pages: Pages, truth: Truth, limit: int) -> Outcome:
    """(7) Filter down to a hidden bar and count its rows in the episode list."""
    out = Outcome("7 row-level list of a hidden bar")
    shown = bars(pages.open({}))
    for facet, labels in shown.items():
        for label, text in labels.items():
            if number(text) is not None or facet == "organs":
                continue
            hidden = truth.bar({}, facet, label)
            at = pages.open({facet: [label]})
            rows = frame_with(at, "episode_id")
            out.add(hidden, None if rows is None else len(rows))
            if out.instances >= limit:
                return out
    return out


def row_level_exposure(pages: Pages) -> list[str]:
    """Everything row-level the role can reach: tables with identifiers, row downloads."""
    found = []
    for page in (None, SURVIVAL):
        at = pages.open({}, page=page)
        for frame in at.dataframe:
            columns = set(frame.value.columns)
            if columns & {"patient_id", "episode_id"}:
                found.append(f"{page or 'study'}: table with {sorted(columns & {'patient_id', 'episode_id'})}")
        for button in at.get("download_button"):
            if "episode" in str(button.proto.label).lower():
                found.append(f"{page or 'study'}: download '{button.proto.label}'")
    return found


def run_all(pages: Pages, truth: Truth, *, limit: int = 40, survival_filters: int = 20
            ) -> list[Outcome]:
    filters_list = [{"center_id": [c], "histology_group": [h]} for c in truth.centres
                    for h in truth.histologies[:5]][:survival_filters]
    views = list(survival_views(pages, truth, filters_list))
    return [
        attack_flow(pages, truth, limit),
        attack_multiselect(pages, truth, limit),
        attack_cross_chart(pages, truth, limit),
        attack_table_one(pages, truth, limit),
        attack_at_risk(pages, truth, views),
        attack_km_steps(pages, truth, views),
        attack_rows(pages, truth, limit),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--app", type=Path, default=APP)
    parser.add_argument("--role", default="aggregate")
    parser.add_argument("--limit", type=int, default=40)
    args = parser.parse_args()
    database = args.home / "published" / "current.duckdb"
    if not database.is_file():
        from tests.dashboards.fixtures import build_warehouse

        build_warehouse(args.home)
    pages = Pages(args.app.resolve(), args.home.resolve(), role=args.role)
    for outcome in run_all(pages, Truth(database), limit=args.limit):
        print(outcome.line(), flush=True)
    exposure = row_level_exposure(pages)
    print("row-level data reachable:", "; ".join(exposure) if exposure else "none")
    print(f"({pages.runs} page runs)")


if __name__ == "__main__":
    main()
