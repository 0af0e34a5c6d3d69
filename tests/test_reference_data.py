"""Acceptance figures on the reference data sets in ../shared/data (skipped when absent)."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

import pytest
from checks import check_variant
from conftest import DATA
from mathgen.generator import perturb_problem

from mathgen.formats import load_problems
from mathgen.records import Rejection

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"reference data not found at {DATA}")

# Shares of problems that give a variant, as measured on 2026-11-21 (a floor against
# regressions). Issue 2 asks for 0.90 (similar), 0.85 (mmos-large) and 0.90 (SVAMP, ASDiv);
# the rest are rejected with a reason because their solutions cannot be fully explained
# (algebra, numbers worked out in the head, world knowledge), see the closing note.
# mmos-large went from 0.885 to 0.879 on 2026-12-07: the calendar and clock bounds ("slept 9
# hours last night" stays within a day, "a four-week month" keeps its weeks) and the last check
# of the written solution refuse what it gave before ("Harry slept 1233 hours last night").
# It went to 0.905 the same day: where every large draw fails, the numbers the story bounds
# are placed one at a time within their bounds (generator/walk.py).
FLOOR = {"gsm8k similar": 0.90, "gsm8k mmos-large": 0.90, "svamp": 0.99, "asdiv": 0.90}


def run(name: str, strategy: str, n: int = 1):
    problems = list(load_problems(DATA / name))
    variants, reasons = [], Counter()
    for p in problems:
        result = p if isinstance(p, Rejection) else perturb_problem(p, strategy, n=n, seed=0)
        if isinstance(result, Rejection):
            reasons[result.reason] += 1
        else:
            variants.append(result)
    print(f"\n{name} {strategy}: {len(variants)}/{len(problems)} problems gave a variant; "
          f"rejections: {dict(reasons.most_common())}")
    return problems, variants


@pytest.fixture(scope="module")
def gsm8k_similar():
    return run("gsm8k/test.jsonl", "similar")


@needs_data
def test_gsm8k_similar_yield(gsm8k_similar):
    problems, variants = gsm8k_similar
    assert len(problems) == 1319
    assert len(variants) >= FLOOR["gsm8k similar"] * len(problems)


@needs_data
def test_gsm8k_mmos_large_yield():
    problems, variants = run("gsm8k/test.jsonl", "mmos-large")
    assert len(variants) >= FLOOR["gsm8k mmos-large"] * len(problems)


@needs_data
@pytest.mark.parametrize("strategy", ["similar", "mmos-large", "gsm-hard"])
def test_gsm8k_variants_are_true_and_sensible(strategy, gsm8k_similar):
    _, variants = gsm8k_similar if strategy == "similar" else run("gsm8k/test.jsonl", strategy)
    bad = [(v.id, problem) for vs in variants for v in vs
           for problem in check_variant(v.to_json())]
    assert bad == []
    negative_or_fraction = sum(
        1 for vs in variants for v in vs
        if Fraction(v.final_answer) < 0 or Fraction(v.final_answer).denominator != 1)
    originals_ok = sum(1 for vs in variants if Fraction(vs[0].original_final_answer) >= 0
                       and Fraction(vs[0].original_final_answer).denominator == 1)
    assert negative_or_fraction == 0 and originals_ok == len(variants)


@needs_data
@pytest.mark.parametrize("name", ["svamp/test.jsonl", "asdiv/test.jsonl"])
def test_svamp_and_asdiv_yield(name):
    problems, variants = run(name, "similar")
    assert len(variants) >= FLOOR[name.split("/")[0]] * len(problems)
    assert all(check_variant(v.to_json()) == [] for vs in variants for v in vs)
