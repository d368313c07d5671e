"""The run's garbage-collector settings are scoped: set for the run, restored after it."""

import gc

from pipelines.gc_tuning import RUN_YOUNG_THRESHOLD, collect_less_often, run_collector


def test_run_collector_freezes_and_restores():
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    with run_collector():
        assert gc.get_threshold()[0] == RUN_YOUNG_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() > frozen_before  # what existed is set aside
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_run_collector_restores_after_a_failure():
    before = gc.get_threshold()
    try:
        with run_collector():
            raise RuntimeError("the run failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_collect_less_often_raises_only_the_young_threshold():
    before = gc.get_threshold()
    try:
        collect_less_often()
        assert gc.get_threshold() == (RUN_YOUNG_THRESHOLD, *before[1:])
    finally:
        gc.set_threshold(*before)
