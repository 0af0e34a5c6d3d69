"""Equal numbers of the question told apart by the words a calculation's prose writes around
them (generator/twins.py): '4 x $4' is a count and a price, '3 boxes x 3 pens' two counts.
Each table row is a problem written for this test; its variants must change both numbers
independently and keep the answer the solution's own formula gives."""

from __future__ import annotations

import re
from fractions import Fraction as F

import pytest
from checks import annotation_errors, prose_errors

from mathgen.generator.perturb import perturb_problem
from mathgen.generator.symbolic import build
from mathgen.records import Problem


def problem(question: str, solution: str, answer) -> Problem:
    return Problem("t:1", 1, question, solution, F(answer), "gsm8k")


# (problem, how to read the variant's question numbers in order, the answer they give)
CASES = [
    pytest.param(problem(
        "A set of markers costs $4 and a ruler costs $1. Ana buys one set and one ruler. Ben "
        "buys 4 sets and one ruler. How much do they spend together?",
        "Ana spends $4 + $1 = $<<4+1=5>>5.\n"
        "Ben's sets cost 4 sets x $4 = $<<4*4=16>>16.\n"
        "Ben spends $16 + $1 = $<<16+1=17>>17.\n"
        "Together they spend $5 + $17 = $<<5+17=22>>22.\n#### 22", 22),
        lambda price, one, count: (price + 1) + (count * price + 1), id="money-and-count"),
    pytest.param(problem(
        "A shop packs 6 pens in each box. Leo buys 6 boxes and 5 loose pens. How many pens "
        "does he have?",
        "The boxes hold 6 boxes x 6 pens = <<6*6=36>>36 pens.\n"
        "He has 36 + 5 = <<36+5=41>>41 pens.\n#### 41", 41),
        lambda per_box, boxes, loose: per_box * boxes + loose, id="two-counts-by-noun"),
]


def _question_numbers(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", text)]


@pytest.mark.parametrize("p, formula", CASES)
def test_equal_numbers_told_apart_by_their_twins_change_on_their_own(p, formula):
    symbolic = build(p)
    assert len([v for v in symbolic.variables if v.derived is None]) >= 2
    out = perturb_problem(p, "similar", n=8, seed=0)
    assert isinstance(out, list) and len(out) == 8, out
    told_apart = 0
    for v in out:
        assert annotation_errors(v.answer) == []
        assert prose_errors(p.solution, v.to_json()) == []
        numbers = _question_numbers(v.question)
        assert F(v.final_answer) == formula(*numbers)
        told_apart += numbers[0] != numbers[2]
    assert told_apart  # not one number under two names


def test_a_twin_without_words_leaves_equal_numbers_fixed():
    # '5 * 5' says nothing of which 5 is which: neither the price nor the days may change
    p = problem("Tickets cost $5 on Monday and 5 times as much on Friday. How much is a "
                "Friday ticket?",
                "A Friday ticket costs 5 * 5 = $<<5*5=25>>25.\n#### 25", 25)
    out = perturb_problem(p, "similar", n=4, seed=0)
    if isinstance(out, list):  # the same reading either way: 5 * 5 is symmetric
        for v in out:
            numbers = _question_numbers(v.question)
            assert F(v.final_answer) == numbers[0] * numbers[1]
