"""robustness.stats: intervals, the exact McNemar test, the clustered bootstrap."""

from __future__ import annotations

import math
import random

import pytest

from mathgen.robustness.stats import accuracy, consistency, mcnemar_exact, paired, wilson


@pytest.mark.parametrize("correct, n, low, high", [
    (81, 100, 0.7222, 0.8749),  # Wilson interval, as published tables give it
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
])
def test_wilson_interval(correct, n, low, high):
    lo, hi = wilson(correct, n)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_accuracy_record():
    acc = accuracy([True, False, True, True])
    assert (acc.n, acc.correct, acc.value) == (4, 3, 0.75)
    assert acc.ci95[0] < 0.75 < acc.ci95[1]


@pytest.mark.parametrize("fixed, broken, p", [
    (0, 0, 1.0),
    (5, 5, 1.0),
    (0, 5, 0.0625),  # 2 * (1/2)^5
    (1, 9, 2 * (1 + 10) / 2 ** 10),
    (12, 30, None),
    (2990, 3100, None),  # large counts: the log-space sum agrees with exact integers
])
def test_mcnemar_exact(fixed, broken, p):
    got = mcnemar_exact(fixed, broken)
    if p is None:  # against the binomial distribution summed the long way
        n, k = fixed + broken, min(fixed, broken)
        p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)
    assert got == pytest.approx(p)


def test_paired_drop_counts_and_interval():
    rng = random.Random(0)
    baseline = {f"s{i}": [rng.random() < 0.8] for i in range(400)}
    variants = {s: [v[0] and rng.random() < 0.9 for _ in range(3)] for s, v in baseline.items()}
    result = paired(baseline, variants, seed=1)
    assert result.n_sources == 400 and result.n_pairs == 1200
    assert result.fixed == 0 and result.broken_items > result.broken > 0
    assert result.drop > 0 and result.drop_ci95[0] < result.drop < result.drop_ci95[1]
    assert result.drop_ci95[0] > 0 and result.mcnemar_p == pytest.approx(2 / 2 ** 15)
    assert paired(baseline, variants, seed=1) == result  # same seed, same interval


def test_no_difference_gives_a_large_p_and_an_interval_around_zero():
    rng = random.Random(3)
    baseline = {f"s{i}": [rng.random() < 0.7] for i in range(500)}
    same = {s: list(v) for s, v in baseline.items()}
    result = paired(baseline, same)
    assert result.drop == 0 and result.mcnemar_p == 1.0 and result.drop_ci95 == (0.0, 0.0)


def test_only_shared_sources_are_paired():
    result = paired({"a": [True], "b": [False]}, {"b": [True], "c": [False]})
    assert result.n_sources == 1 and result.fixed == 1 and result.broken == 0
    nothing = paired({"a": [True]}, {"c": [False]})
    assert (nothing.n_sources, nothing.drop, nothing.mcnemar_p) == (0, None, None)


def test_the_variants_of_one_source_are_one_discordant_pair():
    one = paired({"s1": [True]}, {"s1": [False] * 10})
    assert (one.broken, one.broken_items, one.mcnemar_p) == (1, 10, 1.0)
    split = paired({"s1": [True]}, {"s1": [False, True]})
    assert (split.broken, split.fixed) == (0, 0)  # an even split is neither


def test_consistency():
    assert consistency({"a": [True, True], "b": [True, False], "c": []}) == 0.5
