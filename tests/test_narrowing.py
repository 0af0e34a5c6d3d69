"""Instances drawn from narrowed domains keep every condition, checked apart from mathgen."""

import ast
import math
from fractions import Fraction
from pathlib import Path

import pytest

from mathgen.errors import UnsupportedProblem
from mathgen.formulas import Worded, parse
from mathgen.generator import gsm_symbolic
from mathgen.generator.instances import instances
from mathgen.generator.template import Draw, Template

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm-symbolic" / "symbolic"


class _Exact(ast.NodeTransformer):
    # Python's own evaluation, with every literal exact: '3/4' is Fraction(3, 4), not 0.75
    def visit_Constant(self, node):
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return ast.Call(ast.Name("Fraction", ast.Load()), [ast.Constant(repr(node.value))], [])
        return node


_PLAIN = {"Fraction": Fraction, "is_int": lambda x: Fraction(x).denominator == 1,
          "divides": lambda a, b: b != 0 and Fraction(a) % Fraction(b) == 0,
          "int": lambda x: int(Fraction(x)), "round": round, "abs": abs, "min": min, "max": max,
          "floor": math.floor, "ceil": math.ceil, "float": Fraction, "len": len, "sum": sum,
          "gcd": lambda *x: math.gcd(*map(int, x)), "lcm": lambda *x: math.lcm(*map(int, x))}


class _Pair(Fraction):
    # GSM-Symbolic's worded values are a number that is also a (text, number) pair
    def __new__(cls, value, text):
        self = super().__new__(cls, value)
        self.text = text
        return self

    def __getitem__(self, i):
        return (self.text, Fraction(self))[int(i)]


def _python(text, env):
    tree = ast.fix_missing_locations(_Exact().visit(ast.parse(text.strip(), mode="eval")))
    # a worded value is GSM-Symbolic's (text, number) pair
    values = {k: _Pair(Fraction(v), v.text) if isinstance(v, Worded) else Fraction(v)
              if isinstance(v, (int, Fraction)) and not isinstance(v, bool) else v
              for k, v in env.items()}
    return eval(compile(tree, "<check>", "eval"), {"__builtins__": {}, **_PLAIN}, values)  # noqa: S307


@pytest.mark.skipif(not DATA.is_dir(), reason="GSM-Symbolic templates not in ../shared/data")
def test_twenty_instances_of_every_gsm_symbolic_template_keep_every_condition():
    checked = 0
    for path in sorted(DATA.glob("*.json")):
        try:
            template = gsm_symbolic.load(path, path.stem)
        except UnsupportedProblem:
            continue
        envs, why = instances(template, 20, seed=3)
        assert len(envs) == 20, (path.name, why)
        for env in envs:
            for condition in template.conditions:
                assert _python(condition.text, env), (path.name, condition.text, env)
            assert Fraction(_python(template.answer.text, env)) == Fraction(env["answer"]), path
        checked += 1
    assert checked >= 95


def _template(conditions, *domains):
    draws = tuple(Draw((name,), range(low, high)) for name, low, high in domains)
    defaults = {name: low for name, low, _ in domains}
    return Template("t", "t", draws, defaults, tuple(parse(c) for c in conditions), (),
                    parse(" + ".join(name for name, _, _ in domains)), None)


@pytest.mark.parametrize("conditions, domains", [
    (["x % y == 0"], [("y", 2, 40), ("x", 10, 2000)]),
    (["is_int(x / y)", "x > y"], [("y", 3, 97), ("x", 1, 1500)]),
    (["x < y", "x + y <= 100"], [("x", 1, 1000), ("y", 1, 1000)]),
    (["divides(x * 7, y)", "y != 7"], [("x", 1, 50), ("y", 2, 1900)]),
])
def test_rare_conditions_are_met_by_every_instance_and_same_seed_same_instances(conditions,
                                                                               domains):
    template = _template(conditions, *domains)
    first, why = instances(template, 30, seed=1)
    assert len(first) == 30, why
    for env in first:
        assert all(_python(c, env) for c in conditions), env
    assert instances(template, 30, seed=1)[0] == first
    assert instances(template, 30, seed=2)[0] != first
