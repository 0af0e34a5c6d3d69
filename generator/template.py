"""Templates and their instances: variables drawn from domains until every constraint holds.

Both template formats load into a ``Template``: mathgen's own files (jinja2 and front matter,
``generator.library``) and GSM-Symbolic's annotated ones (``generator.gsm_symbolic``)::

    Template(id="lemonade", draws=(Draw(("cups",), range(10, 61)), ...),
             conditions=(parse("cups * price > cost"),), steps=(("revenue", parse(...)), ...),
             answer=parse("revenue - cost"), defaults={"cups": 24, ...}, ...)

Instances are drawn by ``generator.instances``.

Every step and the answer keep the kind they have at the defaults (positive stays positive,
whole stays whole, at most cents stays at most cents), as perturbed problems do.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

from mathgen.errors import MathgenError
from mathgen.formulas import Dec, EvalError, Formula, Worded
from mathgen.numbers import plain
from mathgen.records import Problem

from .constraints import kind_of


class TemplateError(MathgenError):
    """A template file that cannot be used: says which file, where, and how to fix it."""


class DecimalRange:
    """start, start + step, ... below stop, exactly (``np.arange(0.25, 2.5, 0.25)``)."""

    def __init__(self, start, stop, step):
        self.start, self.step = Fraction(start), Fraction(step)
        if self.step <= 0:
            raise EvalError("a range needs a positive step")
        count = (Fraction(stop) - self.start) / self.step
        self.count = max(int(count) + (count.denominator != 1), 0)

    def __len__(self):
        return self.count

    def index_of(self, x):
        i = (Fraction(x) - self.start) / self.step
        return self[int(i)] if i.denominator == 1 and 0 <= i < self.count else None

    def __getitem__(self, i):
        if not -self.count <= i < self.count:
            raise IndexError(i)
        return Dec(self.start + (i % self.count) * self.step)


@dataclass(frozen=True, eq=False)
class Draw:
    """Variables drawn together: one value, k distinct values, or k consecutive values."""

    names: tuple[str, ...]
    domain: Sequence
    mode: str = "one"  # one | distinct | sequential
    scalable: bool = False  # a numeric range that a strategy other than 'similar' may rescale

    def size(self) -> int:
        n, k = len(self.domain), len(self.names)
        if self.mode == "one":
            return n
        if self.mode == "distinct":
            return math.perm(n, k)
        return max(n - k + 1, 0)

    def random(self, rng: random.Random) -> tuple:
        n, k = len(self.domain), len(self.names)
        if self.mode == "one":
            return (self.domain[rng.randrange(n)],)
        if self.mode == "distinct":
            return tuple(self.domain[i] for i in rng.sample(range(n), k))
        start = rng.randrange(n - k + 1)
        return tuple(self.domain[start + i] for i in range(k))

    def each(self):
        n, k = len(self.domain), len(self.names)
        if self.mode == "one":
            return ((v,) for v in self.domain)
        if self.mode == "distinct":
            return (tuple(self.domain[i] for i in p) for p in itertools.permutations(range(n), k))
        return (tuple(self.domain[s + i] for i in range(k)) for s in range(n - k + 1))


@dataclass(frozen=True)
class Template:
    id: str
    path: str
    draws: tuple[Draw, ...]
    defaults: dict
    conditions: tuple[Formula, ...]
    steps: tuple[tuple[str, Formula], ...]
    answer: Formula
    renderer: Any  # .question(env) -> str, .solution(env) -> str
    skills: tuple[str, ...] = ()
    kinds: dict = field(default_factory=dict)  # step name -> Kind at the defaults
    derived: tuple = ()  # Derived: variables an equation fixes, solved instead of drawn

    def complete(self, values: dict) -> tuple[dict | None, str | None]:
        """The evaluated instance for drawn values (derived ones solved), or the reason why
        there is none."""
        values = dict(values)
        for d in self.derived:
            try:
                x = d.solve(values)
            except EvalError as err:
                return None, str(err)
            member = _member(d.domain, x)
            if member is None:
                return None, f"{d.name} = {plain(x)} is not one of its values"
            values[d.name] = member
        # the conditions over drawn numbers alone first: most draws fail one, and then the
        # steps and answer need not be evaluated at all
        early, _ = self.checks()
        for text, check, _ in early:
            if not check(values):
                return None, text
        try:
            env = self.evaluate(values)
        except EvalError as err:
            return None, str(err)
        broken = self.broken(env, early=False)
        return (None, broken) if broken else (env, None)

    def checks(self) -> tuple[tuple, tuple]:
        """(text, compiled check, names read) of the conditions, split into those over drawn values only
        and those that read a step or the answer; compiled on first use."""
        cached = self.__dict__.get("_checks")
        # kept with the conditions they were compiled from: a copy given other conditions
        # (dataclasses.replace, an edit) compiles its own
        if cached is None or cached[0] is not self.conditions:
            from .compiled import compile_check, whole_names

            later = {name for name, _ in self.steps} | {"answer"}
            # numbers given as words ('twice', 'five'): whole Fractions, compared as ints
            whole = whole_names({n: d.domain for d in self.draws for n in d.names})
            pairs = [(f.text, compile_check(f, whole), f.names) for f in self.conditions]
            cached = (self.conditions, tuple(p for p in pairs if not p[2] & later),
                      tuple(p for p in pairs if p[2] & later))
            object.__setattr__(self, "_checks", cached)
        return cached[1:]

    def problem(self) -> Problem:
        """The template's own problem (its defaults), as an input problem."""
        env = self.evaluate(self.defaults)
        return Problem(self.id, 1, self.renderer.question(env), self.renderer.solution(env),
                       Fraction(env["answer"]), "template")

    def evaluate(self, values: dict) -> dict:
        """Values plus every step and ``answer``; raises EvalError."""
        env = dict(values)
        for name, formula in self.steps:
            env[name] = formula(env)
        env["answer"] = self.answer(env)
        return env

    def broken(self, env: dict, early: bool = True) -> str | None:
        """The first constraint an evaluated instance breaks, or None (``early=False``: the
        conditions over drawn values alone are known to hold)."""
        first, late = self.checks()
        for text, check, _ in (first + late if early else late):
            if not check(env):
                return text
        for name, kind in self.kinds.items():
            value = env.get(name)
            if not is_number(value):
                continue
            why = kind.admits(Fraction(value))
            if why:
                return f"{'the answer' if name == 'answer' else name} {why}"
        return None


def is_number(value) -> bool:
    t = type(value)
    # the common types first: isinstance of Fraction goes through the ABC machinery
    if t is int or t is Dec or t is Fraction or t is Worded:
        return True
    return t is not str and t is not bool and isinstance(value, (int, Fraction))


def infer_kinds(template: Template) -> dict:
    """The kind of every step and of the answer at the template's defaults."""
    try:
        env = template.evaluate(template.defaults)
    except EvalError as err:
        raise TemplateError(f"{template.path}: the defaults cannot be evaluated: {err}") from None
    kinds = {}
    for name in [n for n, _ in template.steps] + ["answer"]:
        if is_number(env[name]):
            kinds[name] = kind_of(Fraction(env[name]))
    return kinds


@dataclass(frozen=True, eq=False)
class Derived:
    """A variable that an equation among the constraints fixes ('d3 == d1 + d2'): solved
    from the other values rather than drawn (drawing it would almost never satisfy it)."""

    name: str
    left: Formula
    right: Formula
    domain: Sequence

    def solve(self, values: dict) -> Fraction:
        from .compiled import _FAILS, compile_value

        sides = self.__dict__.get("_sides")
        if sides is None:  # compiled once: solved on every draw
            sides = tuple(compile_value(f) or f for f in (self.left, self.right))
            object.__setattr__(self, "_sides", sides)
        left, right = sides

        def gap(x):
            env = {**values, self.name: x}
            try:
                return Fraction(left(env)) - Fraction(right(env))
            except EvalError:
                raise
            except _FAILS as err:
                raise EvalError(f"{self.left.text} == {self.right.text}: {err}") from None

        at0, at1 = gap(0), gap(1)
        if at1 == at0:
            raise EvalError(f"{self.name} cannot be solved for")
        return -at0 / (at1 - at0)


def find_derived(draws, conditions, functions=None) -> tuple[Derived, ...]:
    """Variables fixed by an equation of the constraints in which they appear linearly, and
    outside every function call; the one declared last is solved for."""
    import ast

    from mathgen.formulas import parse

    from .linear import linear_names

    single = {d.names[0]: d for d in draws if len(d.names) == 1 and d.mode == "one"
              and len(d.domain) and is_number(d.domain[0])}
    drawn = {name for d in draws for name in d.names}
    order = {d.names[0]: i for i, d in enumerate(draws)}
    out, taken = [], set()
    for cond in conditions:
        node = cond.tree
        if not cond.names <= drawn or not (isinstance(node, ast.Compare) and len(node.ops) == 1
                and isinstance(node.ops[0], ast.Eq)):
            continue
        candidates = linear_names(node, (cond.names & single.keys()) - taken)
        if candidates is None:  # not plain from the tree: SymPy decides
            candidates = _sympy_linear(cond, (cond.names & single.keys()) - taken)
        if candidates:
            name = max(candidates, key=order.get)
            taken.add(name)
            out.append(Derived(name, parse(ast.unparse(node.left), functions),
                               parse(ast.unparse(node.comparators[0]), functions),
                               single[name].domain))
    return tuple(out)


def _sympy_linear(cond, names) -> list[str]:
    """The names of ``names`` that the equation holds linearly (as ``linear.linear_names``),
    decided by SymPy; none where SymPy cannot read it."""
    import sympy

    try:
        rel = cond.sympy()
        expr = rel.lhs - rel.rhs
    except (AttributeError, TypeError, ValueError, sympy.SympifyError):
        return []
    calls = expr.atoms(sympy.Function)
    out = []
    for name in names:
        s = sympy.Symbol(name)
        slope = sympy.diff(expr, s)
        if slope != 0 and not slope.has(s) and not any(c.has(s) for c in calls):
            out.append(name)
    return out


def _member(domain, x: Fraction):
    """The value of ``domain`` equal to ``x``, or None."""
    if isinstance(domain, range):
        return int(x) if x.denominator == 1 and int(x) in domain else None
    if isinstance(domain, DecimalRange):
        return domain.index_of(x)
    return next((v for v in domain if is_number(v) and v == x), None)


def _list_item(item):
    if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
        return Worded(_yaml_number(item[1]), item[0])
    return _yaml_number(item) if not isinstance(item, str) else item


def _yaml_number(x):
    if isinstance(x, bool) or isinstance(x, int):
        return x
    if isinstance(x, float):
        return Dec(Fraction(repr(x)))
    return Dec(Fraction(str(x)))


_LISTS: dict | None = None


def word_lists() -> dict[str, list]:
    """The word lists shipped with mathgen (names, fruits, weekdays, 'twice' = 2, ...)."""
    global _LISTS
    if _LISTS is None:
        from importlib import resources

        import yaml

        raw = yaml.safe_load((resources.files("mathgen.templates") / "lists.yaml").read_text("utf-8"))
        _LISTS = {name: [_list_item(i) for i in items] for name, items in raw.items()}
    return _LISTS


def show(value, words: bool = True) -> str:
    """A value as templates write it: words as written (or, with ``words=False``, as the
    number they stand for: 'twice' is 2, 'half' is 1/2), decimals exactly ('0.3', not
    '0.30000000000000004'), fractions as 'p/q'."""
    if isinstance(value, Worded):
        if words:
            return value.text
        value = Fraction(value)
    if isinstance(value, Dec):
        return plain(Fraction(value))
    return str(value)
