"""Sign-in and roles through the router (AppTest with `[auth]` secrets and a seeded
`st.user`), the allow-list file, and the demo identity."""

from __future__ import annotations

import duckdb
import pytest

from dashboards.access import (
    AccessMisconfigured,
    highest_role,
    read_allow_list,
    role_from_claims,
)
from tests.dashboards.conftest import metric, no_exception

AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret",
    "client_id": "oligo",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def signed(app, home, user: dict | None):
    at = app(home)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False} if user is None else {"is_logged_in": True, **user}
    return at


def test_signed_out_users_see_only_the_sign_in_page(app, warehouse):
    at = signed(app, warehouse.home, None)
    at.run()
    no_exception(at)
    assert at.title[0].value == "Oligometastatic NSCLC registry"
    assert [b.label for b in at.button] == ["Log in"]
    assert not at.metric and not at.dataframe and not at.multiselect
    assert not at.get("plotly_chart") and not at.get("vega_lite_chart")


def test_role_from_the_id_token_claim(app, warehouse):
    at = signed(app, warehouse.home, {"email": "ana@hospital.org", "oligo_role": "analyst"})
    at.run()
    no_exception(at)
    assert any("ana@hospital.org" in c.value and "analyst" in c.value for c in at.sidebar.caption)
    assert any("episode_id" in d.value.columns for d in at.dataframe)  # row level allowed


def test_signed_in_user_not_listed_gets_the_aggregate_role(app, warehouse):
    at = signed(app, warehouse.home, {"email": "someone@hospital.org"})
    at.run()
    no_exception(at)
    assert any("aggregate" in c.value for c in at.sidebar.caption)
    assert not any("episode_id" in d.value.columns for d in at.dataframe)
    assert any("row-level data, for the analyst role" in i.value for i in at.info)


def test_allow_list_file_gives_roles_and_can_refuse(app, warehouse, tmp_path, monkeypatch):
    roles = tmp_path / "roles.toml"
    roles.write_text('default_role = "none"\n[roles]\n"Adm@Hospital.org" = "admin"\n')
    monkeypatch.setenv("OLIGO_ROLES_FILE", str(roles))
    at = signed(app, warehouse.home, {"email": "adm@hospital.org"})
    at.run()
    no_exception(at)
    assert any("admin" in c.value for c in at.sidebar.caption)
    at = signed(app, warehouse.home, {"email": "stranger@hospital.org"})
    at.run()
    assert "has no access" in at.error[0].value
    assert not at.metric


def test_admin_page_refuses_other_roles_with_one_message(app, warehouse):
    at = app(warehouse.home, role="aggregate")
    at.switch_page("views/audit.py")
    at.run()
    no_exception(at)
    assert "for the admin role" in at.info[0].value
    assert not at.dataframe


def test_demo_identity_is_labelled_and_can_switch_role(app, warehouse):
    at = app(warehouse.home, role="aggregate")
    at.run()
    no_exception(at)
    assert any("Local demo identity" in m.value for m in at.sidebar.markdown)
    patients = metric(at, "Patients")
    at.selectbox(key="demo_role").set_value("admin").run()
    no_exception(at)
    at.switch_page("views/audit.py")
    at.run()
    no_exception(at)
    assert at.title[0].value == "Audit log"
    log = next(d.value for d in at.dataframe)
    assert {"aggregate", "admin"} <= set(log["role"])
    assert "demo@localhost" in set(log["user"])
    assert patients


def test_claims_and_allow_list_rules(tmp_path):
    assert highest_role(["aggregate", "admin", "x"]) == "admin"
    assert role_from_claims({"oligo_role": ["analyst", "aggregate"]}, {}, "aggregate") == "analyst"
    assert role_from_claims({"oligo_role": "bogus", "email": "A@x.org"}, {"a@x.org": "admin"},
                            "aggregate") == "admin"
    assert role_from_claims({"email": "b@x.org"}, {}, "none") == "none"
    bad = tmp_path / "roles.toml"
    bad.write_text('[roles]\n"a@x.org" = "superuser"\n')
    with pytest.raises(AccessMisconfigured, match="unknown role 'superuser'"):
        read_allow_list(bad)


def test_caches_are_keyed_by_role(app, warehouse):
    with duckdb.connect(str(warehouse.paths.current), read_only=True) as con:
        (exact,) = con.execute("SELECT count(*) FROM marts.episode_cohort "
                               "WHERE center_id = 'centre_d'").fetchone()
    runs = {}
    for role in ("aggregate", "analyst", "aggregate"):
        at = app(warehouse.home, role=role)
        at.query_params["center_id"] = "centre_d"
        at.run()
        no_exception(at)
        rows = any("episode_id" in d.value.columns for d in at.dataframe)
        runs.setdefault(role, []).append((metric(at, "OMD episodes"), rows))
    assert runs["analyst"] == [(f"{exact:,}", True)]  # not the aggregate's cached view
    assert [r[1] for r in runs["aggregate"]] == [False, False]  # nor the analyst's rows
    assert runs["aggregate"][0] == runs["aggregate"][1]  # the same cell, the same value
