"""mathgen.answers: extraction and grading, as tables (parity with published accuracy: test_report)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mathgen.answers import extract, grade, number


@pytest.mark.parametrize("text, answer, method", [
    ("so she makes $\\boxed{18}$ dollars.", "18", "boxed"),
    ("\\boxed{1} first, then \\boxed{\\frac{3}{4}}", "\\frac{3}{4}", "boxed"),
    ("\\boxed{\\text{12 apples}}", "\\text{12 apples}", "boxed"),
    ("We get 5. The answer is 42.", "42", "answer-is"),
    ("The answer is: $1,250.50\nThanks", "$1,250.50", "answer-is"),
    ("Half of it is 9.\n#### 18", "18", "hashes"),
    ("```python\nprint(3*4)\n```\n```output\n12\n```\nSo that is it.", "12", "output"),
    ("First 3 then 4, in all 7 eggs", "7", "last-number"),
    ("no idea", None, "none"),
    ("", None, "none"),
])
def test_extraction(text, answer, method):
    found = extract(text)
    assert (found.text, found.method) == (answer, method)


@pytest.mark.parametrize("predicted, gold, correct", [
    ("18", "18", True),
    ("18.00", 18, True),
    ("$1,250.00", "1250", True),
    ("1,250", "1,250", True),
    ("\\$18", "18", True),
    ("18 dollars", "18", True),
    ("\\text{18 eggs}", "18", True),
    ("\\frac{3}{4}", "0.75", True),
    ("3/4", "0.75", True),
    ("20%", "20", True),
    ("20\\%", "0.2", True),  # a percent form
    ("0.2", "20", False),  # no percent sign: 0.2 is not 20
    ("17.999", "18", False),
    ("1,2", "12", False),  # a list, not a number
    ("3 and 4", "7", False),
    (None, "7", False),
    ("-5", "-5", True),
    (".5", "0.5", True),
])
def test_grading(predicted, gold, correct):
    verdict = grade(predicted, gold)
    assert verdict.correct is correct, verdict.reason
    assert verdict.reason


def test_relative_tolerance_is_an_option():
    assert not grade("2.6666666666666665", "8/3").correct
    assert grade("2.6666666666666665", "8/3", rel_tol=1e-9).correct


def test_the_verdict_explains_itself():
    assert grade("17", "18").reason == "17 != 18"
    assert grade(None, "18").reason == "no number found in the prediction"
    assert grade("20%", "0.2").reason == "equal as a percent"
    assert "not a number" in grade("5", "five-ish").reason


@settings(max_examples=200)
@given(st.fractions(min_value=-10**6, max_value=10**6, max_denominator=1).map(int))
def test_a_written_whole_number_grades_equal_to_itself(n):
    for written in (str(n), f"{n:,}", f"${n:,}.00" if n >= 0 else str(n), f"\\boxed{{{n}}}"):
        assert grade(extract(f"so the answer is {written}").text or written, n).correct, written
    assert number(f"{n:,}")[0] == Fraction(n)

