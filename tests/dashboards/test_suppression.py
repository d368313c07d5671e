"""Small-count suppression: primary, complementary, zero, threshold setting."""

from __future__ import annotations

import polars as pl
import pytest

from dashboards.suppression import (
    HIDDEN_MARK,
    format_count,
    format_part_of_total,
    small_count_threshold,
    suppress_partition,
)


def labels(counts: list[int], threshold: int = 5) -> list[str]:
    return suppress_partition(pl.DataFrame({"n": counts}), "n", threshold)["count_label"].to_list()


def test_counts_at_or_above_threshold_are_shown():
    assert labels([5, 12, 40]) == ["5", "12", "40"]


def test_one_small_cell_hides_the_next_smallest_too():
    # total 32 minus 10 and 20 would give the 2 back.
    assert labels([2, 10, 20]) == ["<5", HIDDEN_MARK, "20"]


def test_complementary_cells_until_hidden_total_reaches_threshold():
    # 1 + 1 = 2 is still small: a third cell is hidden.
    assert labels([1, 1, 6, 30]) == ["<5", "<5", HIDDEN_MARK, "30"]


def test_two_small_cells_whose_sum_is_not_small_are_enough():
    assert labels([3, 4, 30]) == ["<5", "<5", "30"]


def test_zero_is_shown_and_not_used_to_cover_a_small_cell():
    assert labels([0, 3, 10]) == ["0", "<5", HIDDEN_MARK]


def test_partitions_are_suppressed_independently():
    frame = pl.DataFrame({"g": ["a", "a", "b", "b"], "n": [2, 9, 6, 9]})
    out = suppress_partition(frame, "n", 5, by=["g"])["count_label"].to_list()
    assert out == ["<5", HIDDEN_MARK, "6", "9"]


def test_threshold_is_configurable():
    assert labels([7, 30], threshold=10) == ["<10", HIDDEN_MARK]


def test_part_of_total_protects_the_complement():
    assert format_part_of_total(98, 100, 5) == HIDDEN_MARK  # 100 - 98 = 2 not shown
    assert format_part_of_total(3, 100, 5) == "<5"
    assert format_part_of_total(50, 100, 5) == "50"


def test_single_counts():
    assert format_count(4, 5) == "<5"
    assert format_count(0, 5) == "0"
    assert format_count(1234, 5) == "1,234"


@pytest.mark.parametrize(("value", "expected"), [(None, 5), ("11", 11), ("x", 5), ("0", 1)])
def test_threshold_from_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("OLIGO_SMALL_COUNT_THRESHOLD", raising=False)
    else:
        monkeypatch.setenv("OLIGO_SMALL_COUNT_THRESHOLD", value)
    assert small_count_threshold() == expected
