"""Perturbing problems: draw new values, keep those that meet every constraint, render.

Randomness comes from ``random.Random(f"{seed}/{source_id}/{k}")`` for variant k of a
problem, never from the global RNG or ``hash()``, so the output is the same byte for byte
whatever the worker count.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from fractions import Fraction
from functools import partial
from typing import Iterable, Iterator

from mathgen.errors import UnsupportedProblem
from mathgen.expressions import RUNTIME, to_python
from mathgen.numbers import decimal_places, plain
from mathgen.records import Problem, Rejection, Variant

from . import render, strategies
from .constraints import Kind, infer
from .symbolic import SymbolicProblem, build

DEFAULT_TRIES = 500
_PLAIN_DRAWS = 30  # plain draws before near misses are mended
_MENDS = 48  # mending attempts per variant
_MEND_STEPS = 4  # numbers moved in one mending attempt
_MEND_REACH = 25  # units a number may move when a step is not linear in it
_EVAL_ERRORS = (ZeroDivisionError, ValueError, OverflowError, TypeError)
_EQUAL = Kind(0, True, 0, exact=Fraction(0))  # two results that must stay equal differ by 0


class Compiled:
    """Exact evaluation of one symbolic problem, compiled once and called per draw."""

    def __init__(self, symbolic: SymbolicProblem):
        consts: dict = {}
        variables, steps = symbolic.variables, symbolic.steps
        free = [v.name for v in variables if v.derived is None]
        lines = [f"def _values({', '.join(free)}):"]
        lines += [f"    {v.name} = {to_python(v.derived, consts)}" for v in variables
                  if v.derived is not None]
        lines += [f"    {s.name} = {to_python(s.tree, consts)}" for s in steps]
        lines.append(f"    return ({''.join(v.name + ',' for v in variables)}), "
                     f"({''.join(s.name + ',' for s in steps)}), {to_python(symbolic.final, consts)}")
        names = [v.name for v in variables] + [s.name for s in steps]
        lines.append(f"def _slots({', '.join(names)}):")
        lines.append(f"    return ({''.join(to_python(s.tree, consts) + ',' for s in symbolic.slots)})")
        env = dict(RUNTIME)
        env.update({name: int(value) if value.denominator == 1 else value
                    for value, name in consts.items()})
        exec(compile("\n".join(lines), "<symbolic>", "exec"), env)  # noqa: S102 - our own trees
        self.values, self.slots = env["_values"], env["_slots"]


def perturb_problem(problem: Problem, strategy: str = "similar", n: int = 1, seed: int = 0,
                    constrained: bool = True, tries: int = DEFAULT_TRIES) -> list[Variant] | Rejection:
    """Up to ``n`` distinct variants of one problem, or a Rejection saying why none."""
    if strategy == strategies.DISTRACTOR:
        from .distractors import add

        return add(problem, n, seed)
    try:
        symbolic = build(problem)
    except UnsupportedProblem as err:
        return Rejection(problem.source_id, problem.source_line, err.reason, err.detail)
    return sample(symbolic, strategy, n, seed, constrained, tries)


def sample(symbolic: SymbolicProblem, strategy: str, n: int, seed: int, constrained: bool = True,
           tries: int = DEFAULT_TRIES) -> list[Variant] | Rejection:
    """Draw variants of a symbolic problem."""
    problem = symbolic.problem
    drawer = strategies.get(strategy)
    compiled = Compiled(symbolic)
    limits = infer(symbolic)
    index = {v.name: i for i, v in enumerate(symbolic.variables)}
    free = [v for v in symbolic.variables if v.derived is None]
    derived = [(i, v) for i, v in enumerate(symbolic.variables) if v.derived is not None]
    # drawn numbers are checked as they are drawn (and mended ones as they are moved): only
    # the numbers worked out from them are left to check
    worked_out = [i for i, _ in derived]
    originals = tuple(v.value for v in symbolic.variables)
    labels = [plain(v.value) for v in symbolic.variables]
    if not free:
        return Rejection(problem.source_id, problem.source_line, "nothing-to-perturb",
                         "no number of the question can change")

    def admissible(var, value):
        return not constrained or limits.check_variable(index[var.name], value) is None

    depends = _dependencies(symbolic, free)
    variants, seen, failures = [], {originals}, Counter()
    for k in range(n):
        rng = random.Random(f"{seed}/{problem.source_id}/{k}")
        mends = 0
        for count in range(tries * (1 + drawer.can_relax)):
            attempt = count % tries
            if count == tries:  # no draw kept every constraint: a wider range, once
                drawer.relax()
                mends = 0
            drawn = drawer.draw(free, rng, admissible)
            if attempt >= tries // 2 and len(free) > 1:
                if attempt == tries // 2:
                    mends = 0  # holding numbers back: mending may succeed where it failed
                drawn = _hold_some(free, drawn, rng)
            try:
                var_values, step_values, final = compiled.values(*drawn)
            except _EVAL_ERRORS:
                failures["a step divides by zero"] += 1
                continue
            if var_values in seen:
                failures["same values as the original or an earlier variant"] += 1
                continue
            if constrained and not all(drawer.keeps_derived(v, var_values[i]) for i, v in derived):
                failures["a number worked out from others would change its magnitude"] += 1
                continue
            if constrained:
                broken = limits.violation(var_values, step_values, final, labels, worked_out)
                # plain draws first; mending (slower) only when they keep failing
                if broken and broken[3] and attempt >= _PLAIN_DRAWS and mends < _MENDS:
                    mends += 1
                    mended = _mend(compiled, limits, labels, free, drawn, broken, depends, rng,
                                   lambda var, x: admissible(var, x) and drawer.keeps(var, x))
                    if mended is not None:
                        var_values, step_values, final = mended
                        broken = None if var_values not in seen else broken
                if broken:
                    failures[broken[0]] += 1
                    continue
            try:
                slot_values = compiled.slots(*var_values, *step_values)
            except _EVAL_ERRORS:
                failures["a step divides by zero"] += 1
                continue
            if constrained and any(decimal_places(v) is None for v in slot_values):
                failures["a written number would not be a finite decimal"] += 1
                continue
            seen.add(var_values)
            variants.append(_variant(symbolic, strategy, seed, k, var_values, slot_values, final))
            break
        else:
            break  # a variant that no draw could give: later ones would fail the same way
    if variants:
        return variants
    reason = "constraints-unsatisfied" if constrained else "no-new-values"
    if set(failures) <= {"same values as the original or an earlier variant"}:
        reason = "no-new-values"
    common = ", ".join(f"{what} ({count}x)" for what, count in failures.most_common(2))
    return Rejection(problem.source_id, problem.source_line, reason,
                     f"no draw in {count + 1} kept every constraint; most often: {common}")




def _hold_some(free, drawn, rng) -> list:
    """The draw with a random part of the numbers (never all) back at their original values.

    Used once half the tries failed: a problem whose numbers cannot all move together and
    stay sensible (x - 8y with both shifted by 1,000) still gets a variant in which some move.
    """
    held = [rng.random() < 0.5 for _ in free]
    if all(held):
        held[rng.randrange(len(free))] = False
    return [var.value if hold else value for var, hold, value in zip(free, held, drawn)]


def _mend(compiled, limits, labels, free, drawn, broken, depends, rng, admissible):
    """Move one number a little so that a result that must be whole (or keep to cents, or
    stay pinned) is.

    The drawn values stay the strategy's, give or take a few units: 47 eggs shared by 4
    people becomes 48 rather than a new draw. Returns the values, or None.
    """
    values = list(drawn)
    for _ in range(_MEND_STEPS):
        k = broken[2]
        if broken[1] == "step":
            candidates, kind = depends[k], limits.steps[k]

            def measure(result, k=k):
                return result[1][k]
        elif broken[1] == "same":  # the difference of two results that must stay equal
            earlier = dict(limits.same)[k]
            candidates, kind = sorted(set(depends[k]) | set(depends[earlier])), _EQUAL

            def measure(result, k=k, earlier=earlier):
                return result[1][k] - result[1][earlier]
        else:
            return None
        fixed = None
        for j in rng.sample(candidates, len(candidates)):  # the first number that can mend it
            fixed = _nudge(compiled, kind, measure, values, j, free[j], rng, admissible)
            if fixed is not None:
                break
        if fixed is None:
            return None
        values[j] = fixed[0]
        broken = limits.violation(*fixed[1], labels)
        if broken is None:
            return fixed[1]
        if not broken[3]:
            return None
    return None


def _nudge(compiled, kind, measure, values, j, var, rng, admissible):
    """The nearest value of variable ``j`` that makes ``measure`` (a step's result, or the
    difference of two) keep ``kind``, and the results.

    Most steps are linear in each number (a * x + b); then the offset is found by arithmetic
    over a period, not by trial. Otherwise nearby values are tried in turn.
    """
    unit = Fraction(1, 10 ** var.places) if var.places else 1

    def run(x):
        try:
            return compiled.values(*values[:j], x, *values[j + 1:])
        except _EVAL_ERRORS:
            return None

    def usable(x):
        return x != var.value and admissible(var, x)

    x = values[j]
    results = [run(x + i * unit) for i in range(3)]
    if all(results):
        f0, f1, f2 = (measure(r) for r in results)
        slope = f1 - f0
        if slope and f2 - f1 == slope and kind.exact is not None:  # solve for a pinned value
            t = (kind.exact - f0) / slope
            if t.denominator == 1 and usable(x + t * unit):
                result = run(x + t * unit)
                if result and kind.admits(measure(result)) is None:
                    return x + t * unit, result
            return None
        if slope and f2 - f1 == slope:  # linear in x: the offsets that keep it whole
            reach = min(max(_MEND_REACH, Fraction(slope).denominator), 2000)
            for step in _offsets(f0, slope, kind, reach, rng.random() < 0.5):
                if kind.admits(f0 + slope * step) is None and usable(x + step * unit):
                    result = run(x + step * unit)
                    if result and kind.admits(measure(result)) is None:
                        return x + step * unit, result
            return None
    for reach in range(1, _MEND_REACH + 1):
        for step in (reach, -reach) if rng.random() < 0.5 else (-reach, reach):
            trial = x + step * unit
            if usable(trial):
                result = run(trial)
                if result and kind.admits(measure(result)) is None:
                    return trial, result
    return None


def _offsets(f0, slope, kind, reach: int, up_first: bool) -> list[int]:
    """The whole offsets t, 0 < |t| <= reach, nearest first, at which f0 + slope * t is whole
    (or keeps ``kind``'s decimal places): a linear congruence, solved rather than searched."""
    scale = 1 if kind.integer else 10 ** kind.places
    start, rate = Fraction(f0) * scale, Fraction(slope) * scale
    common = math.lcm(start.denominator, rate.denominator)
    a = start.numerator * (common // start.denominator)
    b = rate.numerator * (common // rate.denominator)
    g = math.gcd(b, common)
    if a % g:
        return []
    period = common // g
    t0 = (-a // g) * pow(b // g, -1, period) % period if period > 1 else 0
    first = t0 - (t0 + reach) // period * period
    found = [t for t in range(first, reach + 1, period) if t]
    return sorted(found, key=lambda t: (abs(t), (t < 0) == up_first))


def _dependencies(symbolic, free) -> list[list[int]]:
    """For each step, the positions in ``free`` of the free variables it depends on."""
    from mathgen.expressions import symbols

    position = {v.name: i for i, v in enumerate(free)}
    known: dict[str, frozenset] = {}
    for v in symbolic.variables:
        if v.derived is not None:
            known[v.name] = frozenset(position[n] for n in symbols(v.derived) if n in position)
    out = []
    for step in symbolic.steps:
        deps: set = set()
        for name in symbols(step.tree):
            deps |= {position[name]} if name in position else known.get(name, frozenset())
        known[step.name] = frozenset(deps)
        out.append(sorted(deps))
    return out


def _variant(symbolic, strategy, seed, k, var_values, slot_values, final) -> Variant:
    problem = symbolic.problem
    question, subs = render.question(symbolic, list(var_values))
    return Variant(
        id=f"{problem.source_id}/{strategy}/{seed}/{k}",
        source_id=problem.source_id,
        source_line=problem.source_line,
        strategy=strategy,
        seed=seed,
        question=question,
        answer=render.solution(symbolic, list(slot_values)),
        final_answer=plain(Fraction(final)),
        substitutions=tuple(subs),
        original_question=problem.question,
        original_final_answer=plain(problem.final_answer),
    )


def _work(options: dict, item):
    if isinstance(item, Rejection):
        return item
    return perturb_problem(item, **options)


def perturb_all(items: Iterable[Problem | Rejection], *, strategy: str = "similar", n: int = 1,
                seed: int = 0, constrained: bool = True, tries: int = DEFAULT_TRIES,
                workers: int = 1) -> Iterator[list[Variant] | Rejection]:
    """Perturb every problem, in input order; Rejections from loading pass through.

    A bad strategy name raises here, before any problem is read or any worker starts.
    """
    strategies.check(strategy)
    options = dict(strategy=strategy, n=n, seed=seed, constrained=constrained, tries=tries)
    return _results(partial(_work, options), items, workers)


def _results(work, items, workers: int):
    if workers <= 1:
        yield from map(work, items)
        return
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(work, items, chunksize=8)
