"""Solutions that name two unknowns, restate the question's relations between them and then
combine them into one equation in one unknown ('p + m = 27 and p = 8m ... 9m = 27')."""

from __future__ import annotations

import re
from fractions import Fraction as F

import pytest
from checks import annotation_errors, prose_errors

from mathgen.generator.perturb import perturb_problem
from mathgen.records import Problem


def problem(question: str, solution: str, answer) -> Problem:
    return Problem("t:1", 1, question, solution, F(answer), "gsm8k")


TILES = problem(
    "A floor uses 5 times as many white tiles as black tiles. If it uses 48 tiles in all, "
    "how many black tiles does it use?",
    "Let w be the number of white tiles and b be the number of black tiles. We know that "
    "w + b = 48 and w = 5b.\n"
    "Substituting the second equation into the first, we get 5b + b = 48\n"
    "Combining like terms, we get 6b = 48\n"
    "Dividing both sides by 6, we get b = 8\n#### 8", 8)

JARS = problem(
    "Tom has 6 fewer than 3 times as many red jars as blue jars. He has 34 jars in all. "
    "How many blue jars does he have?",
    "Let r be the number of red jars and u be the number of blue jars. We know that "
    "r + u = 34 and r = 3u - 6.\n"
    "Substituting the second equation into the first, we get 3u - 6 + u = 34\n"
    "Combining like terms, we get 4u - 6 = 34\n"
    "Adding 6 to both sides, we get 4u = 40\n"
    "Dividing both sides by 4, we get u = 10\n#### 10", 10)


@pytest.mark.parametrize("p, solve", [
    (TILES, lambda times, total: F(total, times + 1)),
    (JARS, lambda fewer, times, total: F(total + fewer, times + 1)),
])
def test_each_variant_solves_the_system_its_question_states(p, solve):
    out = perturb_problem(p, "similar", n=5, seed=0)
    assert isinstance(out, list) and len(out) == 5, out
    for v in out:
        numbers = [int(x) for x in re.findall(r"\d+", v.question)]
        assert F(v.final_answer) == solve(*numbers)
        assert annotation_errors(v.answer) == []
        assert prose_errors(p.solution, v.to_json()) == []


def test_a_product_of_two_unknowns_is_not_read_as_a_restatement():
    p = problem("A rectangle is 4 times as long as it is wide. Its area is 100. How wide is it?",
                "Let L be the length and W be the width. We know that L = 4W and L * W = 100.\n"
                "Substituting, we get 4W * W = 100\n#### 5", 5)
    out = perturb_problem(p, "similar", n=1, seed=0)
    assert not isinstance(out, list)  # rejected, never a guessed label
