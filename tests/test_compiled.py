"""Compiled conditions agree with the formula language, value for value."""

from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from mathgen.formulas import EvalError, Worded, parse
from mathgen.generator.compiled import compile_check, compile_value, fraction_names
from mathgen.generator.gsm_symbolic import _TEXT_FUNCTIONS
from mathgen.generator.pairs import check
from mathgen.generator.template import DecimalRange


@pytest.mark.parametrize("text, env, holds", [
    ("a % b == 0", {"a": 42, "b": 7}, True),
    ("a % b == 0", {"a": 43, "b": 7}, False),
    ("a % b == 0", {"a": 43, "b": 0}, False),  # a division by zero breaks it
    ("is_int(a / b)", {"a": 9, "b": 6}, False),
    ("is_int(a / b)", {"a": 18, "b": 6}, True),
    ("divides(a * 3, b)", {"a": 5, "b": 15}, True),
    ("a < b < 2 * a", {"a": 4, "b": 7}, True),
    ("a < b < 2 * a", {"a": 4, "b": 8}, False),
    ("a + b <= 100 and not a == b", {"a": 50, "b": 50}, False),
    ("a + b <= 100 or a == b", {"a": 80, "b": 80}, True),
    ("a * 0.1 == 3", {"a": 30}, True),  # the decimal as written, not a float
    ("a ** b > 1000", {"a": 10, "b": 3}, False),
    ("a ** b > 1000", {"a": 10, "b": 999}, False),  # a huge power is refused
    ("(a if a > b else b) == 9", {"a": 9, "b": 2}, True),
    ("int(a / b) == 2 and round(a / b) == 3", {"a": 5, "b": 2}, False),
    ("name1 != name2", {"name1": "Ann", "name2": "Bo"}, True),
    ("a > name", {"a": 1, "name": "Ann"}, False),  # a number against a word breaks it
    ("x[0] == 1", {"x": [1, 2]}, True),  # an index is not compiled: evaluated as written
])
def test_a_compiled_check_holds_where_the_formula_does(text, env, holds):
    formula = parse(text, _TEXT_FUNCTIONS)
    assert compile_check(formula)(env) is holds
    try:
        expected = bool(formula(env))
    except EvalError:
        expected = False
    assert expected is holds


def test_what_is_not_compiled_is_said():
    assert compile_value(parse("[a, b][0]")) is None
    assert compile_value(parse("a / b")) is not None


numbers = st.one_of(st.integers(-50, 50), st.fractions(max_denominator=12).filter(
    lambda f: abs(f) < 50))
FORMULAS = ["a + b * c", "a / b - c", "(a - b) // c", "a % b + c", "-a * (b + c) / 4",
            "min(a, b) - max(b, c)", "abs(a - b) / c", "int(a / c) + round(b)",
            "a ** 2 - b * 0.5", "a if b < c else c / 3", "floor(a) + ceil(b / 2)"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FORMULAS), numbers, numbers, numbers)
def test_a_compiled_value_is_the_formula_value(text, a, b, c):
    formula, env = parse(text), {"a": a, "b": b, "c": c}
    try:
        expected = formula(env)
    except EvalError:
        expected = None
    try:
        got = compile_value(formula)(env)
    except (ZeroDivisionError, EvalError, ValueError, TypeError):
        got = None
    assert (got is None) == (expected is None)
    if got is not None:
        assert Fraction(got) == Fraction(expected)


@pytest.mark.parametrize("domain, listed", [
    ([Fraction(1, 2), Fraction(1, 3)], True),
    (DecimalRange(Fraction(1, 4), 2, Fraction(1, 4)), True),
    ([Worded(Fraction(2), "two"), Worded(Fraction(3), "three")], True),
    ([1, Fraction(1, 2)], False),  # an int has no numerator slot
    (range(1, 9), False),
    (["Ann", "Bo"], False),
    ([], False),
])
def test_fraction_names_hold_fractions_only(domain, listed):
    assert (fraction_names({"x": domain}) == {"x"}) is listed


def test_a_condition_over_fractions_reads_the_same_through_the_slots():
    formula = parse("is_int(n * w) and w < 1", _TEXT_FUNCTIONS)
    fast = check(formula, {"n", "w"}, {"n"}, fractions=frozenset({"w"}))
    for n in range(1, 13):
        for w in (Fraction(1, 2), Fraction(1, 3), Worded(Fraction(3, 4), "three quarters")):
            assert fast({"n": n, "w": w}) is ((n * w).denominator == 1)
