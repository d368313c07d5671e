"""Who is looking, and with which role.

Roles (least to most):

- `aggregate`: perturbed and suppressed aggregates only (`dashboards.disclosure`), no
  row-level data at all;
- `analyst`: row-level views (episode list and CSV, timelines, SQL explorer), unperturbed
  counts;
- `admin`: everything an analyst sees, plus operations and data-quality detail and the
  audit log.

**Signed in** (an `[auth]` section in `.streamlit/secrets.toml`): Streamlit's native OpenID
Connect (`st.login` / `st.user`). The role is, in this order:

1. the ID-token claim named by `OLIGO_ROLE_CLAIM` (default `oligo_role`), a role name or a
   list of them (the highest listed wins), when the identity provider sends it;
2. the allow-list file (`OLIGO_ROLES_FILE`, default `OLIGO_HOME/roles.toml`):
   ``[roles]`` e-mail = role, plus an optional top-level ``default_role``;
3. `default_role` from that file, else `aggregate` (least privilege). A `default_role` of
   `"none"` refuses users who are not listed.

**Demo mode** (no `[auth]`): nobody signs in; the viewer is the local demo identity
`demo@localhost`, labelled as such on every page. Its role starts as `OLIGO_DEMO_ROLE`
(default `aggregate`, what a typical signed-in user would see) and can be switched in the
sidebar, so `make demo` shows every page; every page is listed in demo mode, and a page the
chosen role may not open says so.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from pipelines.settings import paths

ROLES = ("aggregate", "analyst", "admin")
ROW_LEVEL_ROLES = ("analyst", "admin")
DEFAULT_ROLE = "aggregate"
NO_ACCESS = "none"
DEMO_EMAIL = "demo@localhost"
DEMO_ROLE_KEY = "demo_role"
ROLE_CLAIM_ENV = "OLIGO_ROLE_CLAIM"
ROLES_FILE_ENV = "OLIGO_ROLES_FILE"
DEMO_ROLE_ENV = "OLIGO_DEMO_ROLE"


@dataclass(frozen=True)
class Viewer:
    email: str
    role: str  # one of ROLES, or NO_ACCESS for a signed-in user the allow-list refuses
    is_demo: bool

    @property
    def sees_rows(self) -> bool:
        return self.role in ROW_LEVEL_ROLES

    @property
    def label(self) -> str:
        who = "local demo identity (no sign-in configured)" if self.is_demo else self.email
        return f"{who} · role **{self.role}**"


class AccessMisconfigured(RuntimeError):
    """The allow-list file cannot be read or names an unknown role."""


# --- configuration ------------------------------------------------------------------------


def auth_configured() -> bool:
    """True when `.streamlit/secrets.toml` has an `[auth]` section (sign-in required)."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, OSError):
        return False
    except Exception as exc:  # StreamlitSecretNotFoundError when there is no secrets file
        if type(exc).__name__ == "StreamlitSecretNotFoundError":
            return False
        raise


def login_provider() -> str | None:
    """The provider name for `st.login`: None for a single provider set in `[auth]` itself,
    else the first `[auth.<name>]` sub-section."""
    section = st.secrets["auth"]
    if "server_metadata_url" in section:
        return None
    named = [key for key, value in section.items() if hasattr(value, "keys")]
    return named[0] if named else None


def roles_file() -> Path:
    configured = os.environ.get(ROLES_FILE_ENV, "").strip()
    return Path(configured) if configured else paths().home / "roles.toml"


def _check_role(role: str, where: str) -> str:
    if role not in ROLES and role != NO_ACCESS:
        raise AccessMisconfigured(
            f"{where}: unknown role {role!r}; use one of {', '.join(ROLES)} (or 'none')"
        )
    return role


def read_allow_list(path: Path | None = None) -> tuple[dict[str, str], str]:
    """({lower-case e-mail: role}, default role) from the allow-list file (absent: empty)."""
    path = path or roles_file()
    if not path.is_file():
        return {}, DEFAULT_ROLE
    try:
        parsed = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AccessMisconfigured(f"{path}: cannot be read as TOML ({exc})") from exc
    default = _check_role(str(parsed.get("default_role", DEFAULT_ROLE)), f"{path} default_role")
    roles = {
        str(email).strip().lower(): _check_role(str(role), f"{path} [roles] {email}")
        for email, role in (parsed.get("roles") or {}).items()
    }
    return roles, default


def highest_role(values: Iterable[str]) -> str | None:
    known = [v for v in values if v in ROLES]
    return max(known, key=ROLES.index) if known else None


def role_from_claims(claims: dict, allow_list: dict[str, str], default: str) -> str:
    """The role of a signed-in user: token claim, else allow-list, else the default."""
    claim = claims.get(os.environ.get(ROLE_CLAIM_ENV, "").strip() or "oligo_role")
    if isinstance(claim, str):
        claim = [claim]
    from_claim = highest_role(claim) if isinstance(claim, list | tuple) else None
    if from_claim:
        return from_claim
    email = str(claims.get("email") or "").strip().lower()
    return allow_list.get(email, default)


# --- the viewer -----------------------------------------------------------------------------


def demo_role() -> str:
    chosen = st.session_state.get(DEMO_ROLE_KEY)
    if chosen in ROLES:
        return chosen
    start = os.environ.get(DEMO_ROLE_ENV, "").strip()
    return start if start in ROLES else DEFAULT_ROLE


def current_viewer() -> Viewer:
    """The viewer of this run. Signed out (with `[auth]`): role NO_ACCESS, email ''."""
    if not auth_configured():
        return Viewer(email=DEMO_EMAIL, role=demo_role(), is_demo=True)
    user = st.user
    if not user.get("is_logged_in"):
        return Viewer(email="", role=NO_ACCESS, is_demo=False)
    claims = user.to_dict()
    allow_list, default = read_allow_list()
    email = str(claims.get("email") or claims.get("sub") or "unknown")
    return Viewer(email=email, role=role_from_claims(claims, allow_list, default), is_demo=False)


def allowed(viewer: Viewer, roles: Iterable[str]) -> bool:
    return viewer.role in tuple(roles)


def require_role(*roles: str) -> Viewer:
    """The viewer, when their role is one of `roles`; otherwise one message and stop."""
    viewer = current_viewer()
    if allowed(viewer, roles):
        return viewer
    needed = " or ".join(roles)
    if viewer.is_demo:
        st.info(
            f"This page is for the {needed} role; the demo identity is **{viewer.role}**. "
            "Switch the demo role in the sidebar to open it."
        )
    else:
        st.error(
            f"This page is for the {needed} role; you are signed in as {viewer.email} with "
            f"role **{viewer.role}**. Ask the registry's administrator for access."
        )
    st.stop()
    return viewer  # not reached


def render_identity(viewer: Viewer) -> None:
    """Sidebar block: who is signed in (or the demo label), role switch or log-out."""
    if viewer.is_demo:
        st.sidebar.markdown(
            f":orange-badge[:material/science: Local demo identity] `{DEMO_EMAIL}`  \n"
            "No identity provider is configured, so nobody signs in. Configure `[auth]` in "
            "`.streamlit/secrets.toml` to require sign-in."
        )
        if DEMO_ROLE_KEY not in st.session_state:
            st.session_state[DEMO_ROLE_KEY] = demo_role()
        st.sidebar.selectbox(
            "Demo role", ROLES, key=DEMO_ROLE_KEY,
            help="aggregate: protected counts only; analyst: row-level data and exact "
            "counts; admin: also the audit log.",
        )
        return
    st.sidebar.caption(f"Signed in as {viewer.email} · role **{viewer.role}**")
    st.sidebar.button("Log out", on_click=st.logout, key="log_out")
