"""Reading which numbers an equation fixes from its tree agrees with SymPy where it answers."""

import ast

import pytest

from mathgen.formulas import parse
from mathgen.generator.gsm_symbolic import _TEXT_FUNCTIONS
from mathgen.generator.linear import linear_names
from mathgen.generator.template import _sympy_linear

EQUATIONS = [
    "x + y + z + ans == total",
    "ans == n - (n1*w1) - (n2*w2) - int(n3*w3)",
    "total * 60  == 2* h1 * 60 + ans * m1 + h2 * 60 + m2 + n2* h3 * 60",
    "n12 == n1 + n2 + k",
    "n_first == n-1",
    "frac_run + frac_walk == 1",
    "int(quantity * unit_price * 1000) % 10 == 0",
    "(total * (100 - p) / 100 - n1 * price1 / 100) % (price2 / 100) == 0",
    "budget % (tokens + cost1 + cost2 * times) == 0",
    "a / 4 - b * 0.5 == -c",
    "round(a) + b == c",
    "-(a - b) / 3 - c * e == d * gcd(g, 4)",
]


@pytest.mark.parametrize("text", EQUATIONS)
def test_the_tree_reads_as_sympy_does(text):
    formula = parse(text, _TEXT_FUNCTIONS)
    fast = linear_names(formula.tree, formula.names)
    assert fast is not None
    assert sorted(fast) == sorted(_sympy_linear(formula, formula.names))


@pytest.mark.parametrize("text, why", [
    ("x + x == y", "a name twice"),
    ("x * x == y", "a name twice"),
    ("a ** 2 == b", "a power"),
    ("a / b == c", "a division by a number solved for"),
    ("a / (b * 3) == c", "a division by a number solved for"),
    ("floor(a) + b == c", "a function SymPy knows"),
    ("(a - a) * b == c", "a factor that may be zero"),
    ("(x if x > 1 else 2) == y", "a choice"),
])
def test_what_is_not_plain_is_left_to_sympy(text, why):
    formula = parse(text, _TEXT_FUNCTIONS)
    assert linear_names(formula.tree, formula.names) is None, why
    _sympy_linear(formula, formula.names)  # SymPy answers those


def test_a_zero_factor_is_not_passed_as_a_slope():
    tree = ast.parse("a * 0 + b == c", mode="eval").body
    assert linear_names(tree, {"a", "b", "c"}) is None
