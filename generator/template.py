"""Templates and their instances: variables drawn from domains until every constraint holds.

Both template formats load into a ``Template``: mathgen's own files (jinja2 and front matter,
``generator.library``) and GSM-Symbolic's annotated ones (``generator.gsm_symbolic``)::

    Template(id="lemonade", draws=(Draw(("cups",), range(10, 61)), ...),
             conditions=(parse("cups * price > cost"),), steps=(("revenue", parse(...)), ...),
             answer=parse("revenue - cost"), defaults={"cups": 24, ...}, ...)

Instances are drawn two ways, chosen by the size of the space, never by chance:

- small spaces (at most ``ENUMERATE_LIMIT`` combinations of the numbers the constraints
  read) are enumerated, pruning a branch as soon as a constraint over its numbers fails;
  the solutions are shuffled with the seed, so draws are uniform and distinct, and
  constraints that nothing satisfies are known for certain;
- larger ones are sampled: each instance draws until every constraint holds, a bounded
  number of times.

Every step and the answer keep the kind they have at the defaults (positive stays positive,
whole stays whole, at most cents stays at most cents), as perturbed problems do.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

from mathgen.errors import MathgenError, UnsupportedProblem
from mathgen.formulas import Dec, EvalError, Formula, Worded
from mathgen.numbers import decimal_places, plain
from mathgen.records import Problem, Variant

from . import strategies
from .constraints import kind_of

ENUMERATE_LIMIT = 200_000
_TINY = 2_000


class TemplateError(MathgenError):
    """A template file that cannot be used: says which file, where, and how to fix it."""


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
        try:
            env = self.evaluate(values)
        except EvalError as err:
            return None, str(err)
        broken = self.broken(env)
        return (None, broken) if broken else (env, None)

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

    def broken(self, env: dict) -> str | None:
        """The first constraint an evaluated instance breaks, or None."""
        for formula in self.conditions:
            try:
                if not formula(env):
                    return formula.text
            except EvalError:
                return formula.text
        for name, kind in self.kinds.items():
            value = env.get(name)
            if not _is_number(value):
                continue
            why = kind.admits(Fraction(value))
            if why:
                return f"{'the answer' if name == 'answer' else name} {why}"
        return None


def _is_number(value) -> bool:
    return isinstance(value, (int, Fraction)) and not isinstance(value, bool)


def infer_kinds(template: Template) -> dict:
    """The kind of every step and of the answer at the template's defaults."""
    try:
        env = template.evaluate(template.defaults)
    except EvalError as err:
        raise TemplateError(f"{template.path}: the defaults cannot be evaluated: {err}") from None
    kinds = {}
    for name in [n for n, _ in template.steps] + ["answer"]:
        if _is_number(env[name]):
            kinds[name] = kind_of(Fraction(env[name]))
    return kinds


@dataclass(frozen=True)
class _Seed:
    """What a strategy needs of a variable: its value at the defaults, and decimal places."""

    value: Fraction
    places: int


def instances(template: Template, n: int, seed: int, strategy: str = "similar",
              tries: int = 500) -> tuple[list[dict], str]:
    """Up to ``n`` distinct evaluated instances, and why there are fewer when there are.

    Tiny spaces are enumerated at once; others are sampled, and enumerated only when sampling
    falls short (a rare constraint) and the space is at most ``ENUMERATE_LIMIT``.
    """
    if strategy != "similar":
        return _sampled(template, n, seed, tries * 10, strategies.get(strategy))
    fixed = {d.name for d in template.derived}
    involved = [d for d in template.draws
                if set(d.names) & _read_names(template) and not set(d.names) & fixed]
    size = math.prod(d.size() for d in involved)
    if size <= _TINY:
        return _enumerated(template, n, seed, involved, size)
    out, why = _sampled(template, n, seed, tries if size <= ENUMERATE_LIMIT else tries * 10, None)
    if len(out) < n and size <= ENUMERATE_LIMIT:
        return _enumerated(template, n, seed, involved, size)
    return out, why


def _read_names(template: Template) -> set[str]:
    names = set().union(*(f.names for f in template.conditions)) if template.conditions else set()
    names |= set().union(*(f.names for _, f in template.steps)) if template.steps else set()
    return names | template.answer.names


def _values(draws, picks) -> dict:
    out = {}
    for draw, pick in zip(draws, picks):
        out.update(zip(draw.names, pick))
    return out


def _key(values: dict) -> tuple:
    return tuple(sorted((k, str(v), type(v).__name__) for k, v in values.items()))


def _finish(template, values):
    return template.complete(values)


def _enumerated(template, n, seed, involved, size):
    step_names = {name for name, _ in template.steps} | {"answer"}
    early = [(f, f.names) for f in template.conditions if not f.names & step_names]
    solutions = []
    failures: Counter = Counter()

    def walk(i, bound):
        if i == len(involved):
            solutions.append(dict(bound))
            return
        for pick in involved[i].each():
            trial = {**bound, **dict(zip(involved[i].names, pick))}
            ok = True
            for formula, names in early:
                if names <= trial.keys() and not names <= bound.keys():
                    try:
                        ok = bool(formula(trial))
                    except EvalError:
                        ok = False
                    if not ok:
                        failures[formula.text] += 1
                        break
            if ok:
                walk(i + 1, trial)

    walk(0, {})
    rng = random.Random(f"{seed}/{template.id}")
    rng.shuffle(solutions)
    fixed = {d.name for d in template.derived}
    others = [d for d in template.draws if d not in involved and not set(d.names) & fixed]
    out, seen = [], {_key(template.defaults)}  # the template's own problem is no variant
    # fewer solutions than instances asked for: go round again with other words and names
    rounds = 1 if not others else 4
    for k in range(len(solutions) * rounds):
        if len(out) == n:
            break
        numbers = solutions[k % len(solutions)]
        picks = random.Random(f"{seed}/{template.id}/{k}")
        values = {**_values(others, [d.random(picks) for d in others]), **numbers}
        env, why = _finish(template, values)
        if env is None:
            failures[why] += 1
            continue
        if _key(values) not in seen:
            seen.add(_key(values))
            out.append(env)
    if len(out) < n:
        if not out:
            common = "; ".join(f"{w} ({c}x)" for w, c in failures.most_common(2))
            return out, (f"no values satisfy every constraint: all {size} combinations of "
                         f"{', '.join(n for d in involved for n in d.names)} were tried; "
                         f"most often broken: {common or 'none'}")
        return out, f"only {len(out)} distinct instances satisfy every constraint"
    return out, ""


def _sampled(template, n, seed, tries, drawer):
    out, seen, failures = [], {_key(template.defaults)}, Counter()
    fixed = {d.name for d in template.derived}
    draws = [d for d in template.draws if not set(d.names) & fixed]
    for k in range(n):
        rng = random.Random(f"{seed}/{template.id}/{k}")
        for _ in range(tries):
            picks = []
            for draw in draws:
                if drawer is not None and draw.scalable:
                    picks.append(tuple(_propose(drawer, template.defaults[name], rng)
                                       for name in draw.names))
                else:
                    picks.append(draw.random(rng))
            values = _values(draws, picks)
            key = _key(values)
            if key in seen:
                failures["same values as an earlier instance"] += 1
                continue
            env, why = _finish(template, values)
            if env is None:
                failures[why] += 1
                continue
            seen.add(key)
            out.append(env)
            break
        else:
            break
    if len(out) < n:
        common = "; ".join(f"{w} ({c}x)" for w, c in failures.most_common(2))
        return out, f"no draw in {tries} met every constraint; most often broken: {common}"
    return out, ""


@dataclass(frozen=True, eq=False)
class Derived:
    """A variable that an equation among the constraints fixes ('d3 == d1 + d2'): solved
    from the other values rather than drawn (drawing it would almost never satisfy it)."""

    name: str
    left: Formula
    right: Formula
    domain: Sequence

    def solve(self, values: dict) -> Fraction:
        def gap(x):
            env = {**values, self.name: x}
            return Fraction(self.left(env)) - Fraction(self.right(env))

        at0, at1 = gap(0), gap(1)
        if at1 == at0:
            raise EvalError(f"{self.name} cannot be solved for")
        return -at0 / (at1 - at0)


def find_derived(draws, conditions, functions=None) -> tuple[Derived, ...]:
    """Variables fixed by an equation of the constraints in which they appear linearly, and
    outside every function call; the one declared last is solved for."""
    import ast

    import sympy

    from mathgen.formulas import parse

    single = {d.names[0]: d for d in draws if len(d.names) == 1 and d.mode == "one"
              and len(d.domain) and _is_number(d.domain[0])}
    drawn = {name for d in draws for name in d.names}
    order = {d.names[0]: i for i, d in enumerate(draws)}
    out, taken = [], set()
    for cond in conditions:
        node = cond.tree
        if not cond.names <= drawn or not (isinstance(node, ast.Compare) and len(node.ops) == 1
                and isinstance(node.ops[0], ast.Eq)):
            continue
        try:
            rel = cond.sympy()
            expr = rel.lhs - rel.rhs
        except (AttributeError, TypeError, ValueError, sympy.SympifyError):
            continue
        calls = expr.atoms(sympy.Function)
        candidates = []
        for name in (cond.names & single.keys()) - taken:
            s = sympy.Symbol(name)
            slope = sympy.diff(expr, s)
            if slope != 0 and not slope.has(s) and not any(c.has(s) for c in calls):
                candidates.append(name)
        if candidates:
            name = max(candidates, key=order.get)
            taken.add(name)
            out.append(Derived(name, parse(ast.unparse(node.left), functions),
                               parse(ast.unparse(node.comparators[0]), functions),
                               single[name].domain))
    return tuple(out)


def _member(domain, x: Fraction):
    """The value of ``domain`` equal to ``x``, or None."""
    if isinstance(domain, range):
        return int(x) if x.denominator == 1 and int(x) in domain else None
    if hasattr(domain, "index_of"):
        return domain.index_of(x)
    return next((v for v in domain if _is_number(v) and v == x), None)


def _propose(drawer, default, rng):
    value = Fraction(default)
    places = decimal_places(value) or 0
    new = drawer.propose(_Seed(value, places), rng)
    return Dec(new) if isinstance(default, Dec) or Fraction(new).denominator != 1 else int(new)


def variants(template: Template, n: int = 1, seed: int = 0, strategy: str = "similar",
             tries: int = 500) -> list[Variant]:
    """Up to ``n`` variants; raises UnsupportedProblem when no instance can be drawn."""
    envs, why = instances(template, n, seed, strategy, tries)
    if not envs:
        raise UnsupportedProblem("constraints-unsatisfied", why)
    original = template.evaluate(template.defaults)
    question0 = template.renderer.question(original)
    out = []
    for k, env in enumerate(envs):
        final = Fraction(env["answer"])
        out.append(Variant(
            id=f"{template.id}/{strategy}/{seed}/{k}",
            source_id=template.id,
            source_line=1,
            strategy=strategy,
            seed=seed,
            question=template.renderer.question(env),
            answer=template.renderer.solution(env),
            final_answer=plain(final),
            substitutions=tuple((plain(Fraction(template.defaults[name])), plain(Fraction(env[name])))
                                for d in template.draws for name in d.names
                                if _is_number(env[name]) and _is_number(template.defaults.get(name))
                                and env[name] != template.defaults[name]),
            original_question=question0,
            original_final_answer=plain(Fraction(original["answer"])),
        ))
    return out



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
