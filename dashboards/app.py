"""Router of the dashboards: `streamlit run dashboards/app.py` (served by `make demo`).

Builds the navigation, the shared sidebar and the freshness banner, then runs the chosen
page. Reads only the published files under OLIGO_HOME, through `pipelines.safe_sql`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts this folder, not the repository, on sys.path.
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from dashboards.shell import render_freshness, render_shell  # noqa: E402
from pipelines.settings import disable_telemetry  # noqa: E402

PAGES = Path(__file__).resolve().parent / "views"  # not "pages/": see views/__init__.py


def main() -> None:
    disable_telemetry()
    st.set_page_config(page_title="Oligometastatic NSCLC registry", layout="wide")
    navigation = st.navigation(
        [
            st.Page(PAGES / "study.py", title="Study view", icon=":material/bar_chart:", url_path="study",
                    default=True),
            st.Page(PAGES / "survival.py", title="Survival", icon=":material/show_chart:", url_path="survival"),
        ]
    )
    context = render_shell()
    if context is None:
        st.stop()
    render_freshness(context)
    navigation.run()


main()
