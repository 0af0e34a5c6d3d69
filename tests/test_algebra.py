"""Linear equations: solving with the written numbers kept (mathgen.algebra), ASDiv's algebra
formulas, and equations in GSM8K-style worked solutions (mathgen.generator.equations)."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from checks import check_variant, exact, new_values
from hypothesis import given, settings
from hypothesis import strategies as st
from mathgen import algebra
from mathgen.errors import UnsupportedProblem
from mathgen.expressions import const, evaluate, parse, substitute
from mathgen.formula_steps import algebra_steps
from mathgen.generator import perturb_problem
from mathgen.records import Problem, Rejection


def solve_one(text: str, unknown: str = "x") -> tuple[Fraction, str]:
    eq = algebra.equation(text, [unknown])
    tree = algebra.solve([eq], [unknown])[unknown]
    values = [const(x.value) for x in eq.literals]
    return evaluate(substitute(tree, values)), algebra.to_text(tree, [x.text for x in eq.literals])


@pytest.mark.parametrize("text, value", [
    ("x+x+30=110", 40), ("2x = 80", 40), ("x = 40", 40), ("20*2=x+3", 37),
    ("(1/3)*x-7=8", 45), ("4x=x+15", 5), ("(x+18)-15=9", 6), ("2(x+3)=3(x-1)", 9),
    ("(8h)/2=32", 8), ("3x +4 - 4 = 28 \u2013 4", 8), ("x/2 + 6 = 17", 22),
    ("(x+6)*4=(x+25)*3", 51),
])
def test_solutions_are_exact_and_written_over_the_numbers(text, value):
    unknown = re.search(r"[a-z]", text).group()
    solved, written = solve_one(text, unknown)
    assert solved == value
    assert exact(written) == value  # the calculator text computes the same value


def test_literal_spans_point_into_the_text_even_with_implicit_products():
    text = "3(x + 2) = 24+x"
    eq = algebra.equation(text, ["x"])
    assert [text[x.start:x.end] for x in eq.literals] == ["3", "2", "24"]


def test_two_unknowns_by_cramers_rule():
    e1 = algebra.equation("x+y=2584", ["x", "y"])
    e2 = algebra.equation("x=y+704", ["x", "y"])
    solved = algebra.solve([e1, e2], ["x", "y"])
    values = [const(v.value) for v in e1.literals + e2.literals]
    assert {u: evaluate(substitute(t, values)) for u, t in solved.items()} == {"x": 1644, "y": 940}


@pytest.mark.parametrize("text, detail", [
    ("x*x=49", "multiplied by an unknown"),
    ("12/x=3", "divided by an unknown"),
    ("x+1=x+2", "cannot be solved"),
    ("x=1=2", "not one equation"),
])
def test_what_is_not_solved_is_rejected_with_the_reason(text, detail):
    with pytest.raises(UnsupportedProblem) as err:
        solve_one(text)
    assert err.value.reason == "unsupported-equation"
    assert detail in err.value.detail


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40), st.integers(-50, 50), st.integers(1, 40), st.integers(-50, 50),
       st.integers(-60, 60))
def test_changed_numbers_give_the_solution_of_the_changed_equation(a, b, c, d, shift):
    """a*x + b = c*x + d + shift: the tree solves every instance, not only the one it was read
    from (a and c differ, else there is no single solution)."""
    if a == c:
        c += 1
    text = f"{a}x + {abs(b)} = {c}x + {abs(d)}"
    eq = algebra.equation(text, ["x"])
    tree = algebra.solve([eq], ["x"])["x"]
    new = [Fraction(x.value) + shift * (i + 1) for i, x in enumerate(eq.literals)]
    if new[0] == new[2]:
        return
    x = evaluate(substitute(tree, [const(v) for v in new]))
    assert new[0] * x + new[1] == new[2] * x + new[3]


@pytest.mark.parametrize("formula, answer, expected", [
    ("x:The number; (1/3)*x-7=8", 45, "(8 + 7) / (1 / 3)"),
    ("x:Ariel's present age; 4x=x+15", 5, "15 / (4 - 1)"),
    ("11H=132", 12, "132 / 11"),
    ("x:The cost of tuition; y:The cost of room and board; x+y=2584; x=y+704", 1644, None),
    ("x:numerator; y:denominator; y+3=x; x+y=7", Fraction(2, 5), None),
    ("47/6=7 r5", 5, None),  # a remainder, not an unknown
    ("3*4=12", 12, None),
])
def test_asdiv_algebra_formulas(formula, answer, expected):
    steps = algebra_steps(formula, Fraction(answer))
    if "=" in formula and re.search(r"[A-Za-z]:|\dH", formula):
        assert len(steps) == 1 and exact(steps[0]) == answer
        if expected:
            assert steps[0] == expected
    else:
        assert steps == []


def test_asdiv_formula_that_does_not_give_the_answer_is_a_label_mismatch():
    with pytest.raises(UnsupportedProblem) as err:
        algebra_steps("x:The number; x+3=10", Fraction(8))
    assert err.value.reason == "label-mismatch"


def gsm(question: str, answer: str) -> Problem:
    return Problem("t:9", 9, question, answer, Fraction(answer.rsplit("####", 1)[1]), "gsm8k")


COINS = gsm(
    "Greta has 110 coins. There are 30 more gold coins than silver coins. "
    "How many gold coins does Greta have?",
    "Let x be the number of silver coins Greta has.\n"
    "Greta has x+30 gold coins.\n"
    "x+x+30=110\n"
    "2*x=80\n"
    "x=<<40=40>>40\n"
    "Greta has 40+30=<<40+30=70>>70 gold coins\n"
    "#### 70")


def test_equations_of_a_solution_follow_the_new_numbers():
    variants = perturb_problem(COINS, "similar", n=20, seed=3)
    assert len(variants) == 20
    for v in variants:
        assert check_variant(v.to_json()) == []
        new = new_values(v, **{"110": 110, "30": 30})
        total, more = new["110"], new["30"]
        silver = (total - more) / 2
        assert Fraction(v.final_answer) == silver + more
        lines = v.answer.splitlines()
        assert lines[2] == f"x+x+{more}={total}"
        assert lines[3] == f"2*x={total - more}"  # what a solver writes next, recomputed
        assert lines[4].startswith(f"x=<<{silver}={silver}>>")


def test_a_number_beside_an_equation_is_not_its_solution():
    # x = 10 and the question's 10 are equal: 'Subtracting 10' must follow the question's 10
    p = gsm("A board is 100 inches long: 10 inches longer than 9 times a rod. How long is the "
            "rod?",
            "Let x be the length of the rod.\n"
            "Then 9*x + 10 = 100.\n"
            "Subtracting 10 from each side gives 9x = 90\n"
            "So x = <<10=10>>10\n"
            "#### 10")
    for v in perturb_problem(p, "similar", n=10, seed=0):
        new = {s["old"]: s["new"] for s in v.to_json()["substitutions"]}
        assert f"Subtracting {new.get('10', '10')} from each side" in v.answer
        assert check_variant(v.to_json()) == []


def test_an_equation_that_cannot_be_read_rejects_the_problem():
    # two unknowns in one line: its 3 and 5 could not follow new numbers
    p = gsm("Red hens lay 3 eggs a day and white hens 5. Jerry collects 42 eggs a day and has "
            "two more white hens than red. How many red hens does he have?",
            "Let r be the number of red hens, where w is the number of white hens.\n"
            "So 3r + 5w = 42 and w = r + 2.\n"
            "Then 3r + 5(r + 2) = 42, so 8r = 32 and r = 4\n"
            "#### 4")
    result = perturb_problem(p, "similar")
    assert isinstance(result, Rejection) and result.reason == "unsupported-equation"
    assert "3r + 5w = 42" in result.detail


def test_parse_keeps_unknowns_only_when_asked():
    tree, literals = parse("2*x + 1", frozenset({"x"}))
    assert tree == ("add", ("mul", ("lit", 0), ("sym", "x")), ("lit", 1))
    with pytest.raises(UnsupportedProblem):
        parse("2*x + 1")


def test_expressions_in_the_unknown_follow_the_new_numbers_and_stay_sensible():
    # 'Tom: 4x + 12' is written before the equation that solves x; its numbers are the
    # question's, and the cows of '30 - H' must stay a positive count
    cards = gsm("Ann, Tom and Sue have 183 stickers in all. Tom has 12 more than Ann, and Ann "
                "has 4 times as many as Sue. How many stickers does Tom have?",
                "Let x be the number of stickers Sue has.\n"
                "Ann: 4x\n"
                "Tom: 4x+12\n"
                "Total: x+4x+4x+12=183\n"
                "9x+12=183\n"
                "9x=171\n"
                "x=<<19=19>>19\n"
                "Tom: 4(19)+12=88\n"
                "#### 88")
    variants = perturb_problem(cards, "similar", n=10, seed=0)
    assert not isinstance(variants, Rejection), variants
    for v in variants:
        assert check_variant(v.to_json()) == []
        n = new_values(v, **{"183": 183, "12": 12, "4": 4})
        sue = (n["183"] - n["12"]) / (2 * n["4"] + 1)
        assert Fraction(v.final_answer) == n["4"] * sue + n["12"]
        assert f"Ann: {n['4']}x\nTom: {n['4']}x+{n['12']}\n" in v.answer

    farm = gsm("A farm has 30 animals, all hens or cows, with 100 legs in all. How many hens "
               "are there?",
               "Let H be the number of hens.\n"
               "There are 30-H cows.\n"
               "The total number of legs is 2H+4(30-H)=100.\n"
               "2H+120-4H=100\n"
               "H=<<10=10>>10\n"
               "#### 10")
    variants = perturb_problem(farm, "similar", n=10, seed=0)
    assert not isinstance(variants, Rejection), variants
    for v in variants:
        n = new_values(v, **{"30": 30, "100": 100})
        hens = Fraction(v.final_answer)
        assert hens == (4 * n["30"] - n["100"]) / 2 and 0 < hens < n["30"]
        assert f"There are {n['30']}-H cows." in v.answer


def test_named_expressions_and_worked_out_sides():
    # 'David = B/2' names an expression; '3B = 75 - 20 = 55' solves once 75 - 20 is known;
    # '- 20 - 10' gathers to '- 30'; 'Lily was 16' is the value of an expression in B
    p = gsm("Lily, David and Bodhi found 45 shells. Bodhi found 20 more than David and 10 more "
            "than Lily. How many shells did Lily find?",
            "Let B = the number of shells Bodhi found\n"
            "David = B - 20\n"
            "Lily = B - 10\n"
            "B + B - 20 + B - 10 = 45\n"
            "3B - 30 = 45\n"
            "3B = 45 + 30 = 75\n"
            "B = <<25=25>>25\n"
            "Lily found 15 shells.\n"
            "#### 15")
    variants = perturb_problem(p, "similar", n=10, seed=0)
    assert not isinstance(variants, Rejection), variants
    for v in variants:
        assert check_variant(v.to_json()) == []
        n = new_values(v, **{"45": 45, "20": 20, "10": 10})
        bodhi = (n["45"] + n["20"] + n["10"]) / 3
        assert Fraction(v.final_answer) == bodhi - n["10"]
        assert f"3B - {n['20'] + n['10']} = {n['45']}\n" in v.answer
        assert f"Lily found {bodhi - n['10']} shells." in v.answer


def test_an_x_between_numbers_outside_an_equation_multiplies():
    from mathgen.generator.calculations import read

    body = "Let x be the cost.\nHe buys 5 x 2 boxes.\n2x = 10\nx = 5\n"
    assert not [c for c in read(body, len(body), []) if c.over is not None]


@pytest.mark.parametrize("a, b, x", [(5, 3, 5), (4, 2, 2), (7, 4, 3), (6, 2, 6)])
def test_numbers_equal_to_the_unknown_keep_their_own_reading(a, b, x):
    # 'Becca: 3x + 5' is written before x is found, so its 5 is the question's 5 even when x
    # is 5; and the 2 of '2 * 2 + 4' after x = 2 may be either, so it cannot be guessed
    total = x + b * x + a
    for solution in (f"Let x be the number of cookies Amy has.\nBecca: {b}x + {a}\n"
                     f"x + {b}x + {a} = {total}\n{b + 1}x = {total - a}\n"
                     f"x = <<{total - a}/{b + 1}={x}>>{x}\nBecca has {b * x + a} cookies.\n"
                     f"#### {b * x + a}",
                     f"Let x be the number of cookies Amy has.\nx + {b}x + {a} = {total}\n"
                     f"{b + 1}x = {total} - {a} = {total - a}\nx = <<{total - a}/{b + 1}={x}>>{x}\n"
                     f"Becca has {b} * {x} + {a} = <<{b}*{x}+{a}={b * x + a}>>{b * x + a} cookies.\n"
                     f"#### {b * x + a}"):
        p = gsm(f"Becca has {a} more than {b} times as many cookies as Amy. Together they have "
                f"{total} cookies. How many cookies does Becca have?", solution)
        result = perturb_problem(p, "similar", n=5, seed=0)
        if isinstance(result, Rejection):
            continue
        for v in result:
            m = re.match(r"Becca has (\d+) more than (\d+) times .* they have (\d+) cookies",
                         v.question)
            na, nb, nt = map(Fraction, m.groups())
            assert Fraction(v.final_answer) == nb * (nt - na) / (nb + 1) + na, v.answer
