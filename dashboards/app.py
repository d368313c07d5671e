"""Router of the dashboards: `streamlit run dashboards/app.py` (served by `make demo`).

Sign-in first (when `[auth]` is configured in `.streamlit/secrets.toml`; otherwise the
labelled local demo identity), then the navigation of the pages the viewer's role may open
(`dashboards/navigation.py`), the shared sidebar and the freshness banner, then the page.
Reads only the published files under OLIGO_HOME, through `pipelines.safe_sql`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts this folder, not the repository, on sys.path.
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from dashboards import audit  # noqa: E402
from dashboards.access import (  # noqa: E402
    NO_ACCESS,
    AccessMisconfigured,
    auth_configured,
    current_viewer,
    login_provider,
    render_identity,
)
from dashboards.navigation import VIEWS, visible_pages  # noqa: E402
from dashboards.shell import render_freshness, render_shell  # noqa: E402
from pipelines.settings import disable_telemetry  # noqa: E402

SIGNED_IN_KEY = "_oligo_signed_in_recorded"


def render_sign_in() -> None:
    st.title("Oligometastatic NSCLC registry")
    st.info("Sign in with your hospital account to see the registry dashboards.")
    st.button("Log in", type="primary", on_click=st.login, args=(login_provider(),),
              key="log_in")


def main() -> None:
    disable_telemetry()
    st.set_page_config(page_title="Oligometastatic NSCLC registry", layout="wide")
    if auth_configured() and not st.user.get("is_logged_in"):
        render_sign_in()
        st.stop()
    try:
        viewer = current_viewer()
    except AccessMisconfigured as exc:
        st.error(f"Access is misconfigured: {exc}. Fix the roles file, then reload.")
        st.stop()
    if viewer.role == NO_ACCESS:
        st.error(f"{viewer.email} is signed in but has no access to this registry. Ask the "
                 "registry's administrator to add you to the roles file.")
        st.button("Log out", on_click=st.logout, key="log_out")
        st.stop()
    if not viewer.is_demo and not st.session_state.get(SIGNED_IN_KEY):
        audit.record(viewer, "sign-in", "sign_in", None, None)
        st.session_state[SIGNED_IN_KEY] = True
    navigation = st.navigation(
        [
            st.Page(VIEWS / page.file, title=page.title, icon=page.icon,
                    url_path=page.url_path, default=page.default)
            for page in visible_pages(viewer.role, is_demo=viewer.is_demo)
        ]
    )
    render_identity(viewer)
    context = render_shell(viewer)
    if context is None:
        st.stop()
    render_freshness(context)
    navigation.run()


main()
