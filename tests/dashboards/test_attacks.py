"""The seven attacks of issue 16 against the real pages (AppTest through the router) in the
aggregate role: no hidden count is recovered deterministically, and the aggregate role gets
no row-level data. The full measurement (more instances, and the code before the
disclosure layer) is `python -m tests.dashboards.attacks`; figures in
docs/disclosure-control.md."""

from __future__ import annotations

import pytest

from tests.dashboards.attacks import APP, Pages, Truth, row_level_exposure, run_all

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def outcomes(warehouse):
    pages = Pages(APP, warehouse.home, role="aggregate")
    return {o.name[0]: o for o in run_all(pages, Truth(warehouse.paths.current), limit=15,
                                          survival_filters=8)}


def test_every_attack_finds_hidden_cells_to_attack(outcomes):
    # Otherwise the assertions below would hold trivially.
    assert all(o.instances > 0 for o in outcomes.values()), {k: o.line() for k, o in outcomes.items()}


@pytest.mark.parametrize("attack", ["1", "5", "6", "7"])
def test_structural_attacks_recover_nothing(outcomes, attack):
    # Flow exclusions of a hidden step, numbers at risk, curves of small groups and row
    # lists give no exact value at all in the aggregate role.
    assert outcomes[attack].recovered == 0, outcomes[attack].line()


@pytest.mark.parametrize("attack", ["2", "3", "4"])
def test_differencing_is_never_deterministic(outcomes, attack):
    outcome = outcomes[attack]
    assert outcome.estimated >= 5, outcome.line()
    # Before the layer every estimate was exact; now the noise makes most of them wrong,
    # and the attacker cannot tell which are right.
    assert outcome.recovered < outcome.estimated, outcome.line()
    assert outcome.exact_among_estimates <= 0.75, outcome.line()


def test_aggregate_role_gets_no_row_level_data(warehouse):
    assert row_level_exposure(Pages(APP, warehouse.home, role="aggregate")) == []


def test_analyst_role_does_get_row_level_data(warehouse):
    exposure = row_level_exposure(Pages(APP, warehouse.home, role="analyst"))
    assert any("episode_id" in item for item in exposure)
    assert any("Download the filtered episodes" in item for item in exposure)
