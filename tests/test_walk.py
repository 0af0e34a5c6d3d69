"""Values built one number at a time (``generator.walk``) where every large draw fails: the
numbers the story bounds stay within their bounds, the pinned results keep their values."""

from __future__ import annotations

import json
import random
from fractions import Fraction

import pytest
from checks import check_variant, new_values
from mathgen.generator import build, perturb_problem, strategies
from mathgen.generator.constraints import infer
from mathgen.generator.perturb import Compiled
from mathgen.generator.search import Search

from mathgen.records import Problem, Rejection


def problem(question: str, answer: str) -> Problem:
    final = Fraction(answer.rsplit("####", 1)[1].strip())
    return Problem("t:1", 1, question, answer, final, "gsm8k")


# a part of the clock's 2 hours: the first piece and its double leave time for the third
RECITAL = problem(
    "Nia's recital has three pieces and lasts 2 hours. The first piece takes 35 minutes and "
    "the second takes twice as long. How many minutes does the third piece take?",
    "The second piece takes 35 * 2 = <<35*2=70>>70 minutes.\n"
    "The first two take 35 + 70 = <<35+70=105>>105 minutes.\n"
    "The recital lasts 60 * 2 = <<60*2=120>>120 minutes.\n"
    "So the third piece takes 120 - 105 = <<120-105=15>>15 minutes.\n#### 15")
# the total is pinned at 100 (the percentage divides by 100, which it could be): three
# numbers near 1,000 never add up to it
JAR = problem(
    "A jar holds 30 red marbles, 45 blue marbles and 25 green marbles. What percentage of the "
    "marbles are not red?",
    "The jar holds 30 + 45 + 25 = <<30+45+25=100>>100 marbles.\n"
    "Of them 45 + 25 = <<45+25=70>>70 are not red.\n"
    "That is 70 / 100 * 100 = <<70/100*100=70>>70% of the marbles.\n#### 70")


def _recital_bound(values):
    return 3 * values["35"] < 120


def _jar_total(values):
    return values["30"] + values["45"] + values["25"] == 100


@pytest.mark.parametrize("source, holds", [(RECITAL, _recital_bound), (JAR, _jar_total)],
                         ids=["bounded-by-a-constant", "pinned-total"])
def test_where_every_large_draw_fails_a_walk_keeps_every_constraint(source, holds):
    symbolic = build(source)
    search = Search(symbolic, Compiled(symbolic), infer(symbolic), strategies.get("mmos-large"),
                    True, 500)
    # the draws alone find nothing: the walk is what gives these problems variants
    assert search._drawn(random.Random("0/t:1/0"), False) is None
    variants = perturb_problem(source, "mmos-large", n=3, seed=0)
    assert not isinstance(variants, Rejection), variants
    assert len({v.question for v in variants}) == 3
    for v in variants:
        assert check_variant(v.to_json()) == []
        values = new_values(v, **{"30": 30, "45": 45, "25": 25, "35": 35})
        assert holds(values), v.question
        assert Fraction(v.final_answer) > 0


def test_a_walk_gives_the_same_bytes_for_the_same_seed():
    runs = [[json.dumps(v.to_json()) for v in perturb_problem(JAR, "mmos-large", n=3, seed=s)]
            for s in (4, 4, 5)]
    assert runs[0] == runs[1] and runs[0] != runs[2]


@pytest.mark.parametrize("name", ["mmos-large", "mmos-similar"])
def test_a_shift_window_holds_every_value_the_shift_proposes(name):
    strategy = strategies.get(name)
    var = build(JAR).variables[0]
    window = strategy.window(var)
    assert window == sorted(window) and all(strategy.keeps(var, x) for x in window)
    rng = random.Random(0)
    assert all(strategy.propose(var, rng) in set(window) for _ in range(2000))
    assert strategies.get("gsm-hard").window(var) is None


# three shares of 120 pears: each share must stay whole, so most values of a number fail at
# one step, which the walk then checks alone first
SHARES = problem(
    "A farmer picks 120 pears and 84 apples. He packs the pears in boxes of 8 and the apples "
    "in boxes of 6. How many boxes does he fill?",
    "He fills 120 / 8 = <<120/8=15>>15 boxes of pears.\n"
    "He fills 84 / 6 = <<84/6=14>>14 boxes of apples.\n"
    "In all he fills 15 + 14 = <<15+14=29>>29 boxes.\n#### 29")


def _keeps_in_full(search, values, i, x) -> bool:
    """Every constraint of the problem checked on the values worked out in full."""
    trial = list(values)
    trial[i] = x
    try:
        var_values, step_values, final = search.compiled.values(*trial)
    except (ZeroDivisionError, ValueError, OverflowError, TypeError):
        return False
    return search.limits.violation(var_values, step_values, final, search.labels) is None


# a total pinned at 100 cannot move with one number alone: none may (the walk mends it)
@pytest.mark.parametrize("source, some", [(RECITAL, True), (JAR, False), (SHARES, True)],
                         ids=["bounded", "pinned", "shares"])
def test_the_values_a_walk_may_pick_are_those_that_keep_every_constraint(source, some):
    from mathgen.generator.walk import _Trial

    symbolic = build(source)
    search = Search(symbolic, Compiled(symbolic), infer(symbolic), strategies.get("mmos-large"),
                    True, 500)
    rng = random.Random(7)
    starts = [[var.value for var in search.free]]
    starts += [search.drawer.draw(search.free, rng, search.admissible) for _ in range(3)]
    found = 0
    for values in starts:
        for i, var in enumerate(search.free):
            window = search.drawer.window(var)
            expected = [x for x in window if x != var.value
                        and _keeps_in_full(search, values, i, x)]
            trial = _Trial(search)  # a fresh one: no step remembered from another number
            assert trial.options(window, values, i) == expected
            assert trial.options(window, values, i) == expected  # read back from what was kept
            found += len(expected)
    assert bool(found) == some
