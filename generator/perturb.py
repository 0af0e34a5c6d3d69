"""Perturbing problems: draw new values, keep those that meet every constraint, render.

Randomness comes from ``random.Random(f"{seed}/{source_id}/{k}")`` for variant k of a
problem, never from the global RNG or ``hash()``, so the output is the same byte for byte
whatever the worker count.
"""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction
from functools import partial
from typing import Iterable, Iterator

from mathgen.errors import UnsupportedProblem
from mathgen.numbers import plain
from mathgen.records import Problem, Rejection, Variant

from . import render, strategies
from .constraints import infer
from .expressions import RUNTIME, to_python
from .symbolic import SymbolicProblem, build

DEFAULT_TRIES = 500
_EVAL_ERRORS = (ZeroDivisionError, ValueError, OverflowError, TypeError)


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
        env.update({name: value for value, name in consts.items()})
        exec(compile("\n".join(lines), "<symbolic>", "exec"), env)  # noqa: S102 - our own trees
        self.values, self.slots = env["_values"], env["_slots"]


def perturb_problem(problem: Problem, strategy: str = "similar", n: int = 1, seed: int = 0,
                    constrained: bool = True, tries: int = DEFAULT_TRIES) -> list[Variant] | Rejection:
    """Up to ``n`` distinct variants of one problem, or a Rejection saying why none."""
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
    originals = tuple(v.value for v in symbolic.variables)
    labels = [plain(v.value) for v in symbolic.variables]
    if not free:
        return Rejection(problem.source_id, problem.source_line, "nothing-to-perturb",
                         "no number of the question can change")

    def admissible(var, value):
        return not constrained or limits.check_variable(index[var.name], value) is None

    variants, seen, failures = [], {originals}, Counter()
    for k in range(n):
        rng = random.Random(f"{seed}/{problem.source_id}/{k}")
        for _ in range(tries):
            drawn = drawer.draw(free, rng, admissible)
            try:
                var_values, step_values, final = compiled.values(*drawn)
            except _EVAL_ERRORS:
                failures["a step divides by zero"] += 1
                continue
            if var_values in seen:
                failures["same values as the original or an earlier variant"] += 1
                continue
            if constrained:
                broken = limits.violation(var_values, step_values, final, labels)
                if broken:
                    failures[broken] += 1
                    continue
            try:
                slot_values = compiled.slots(*var_values, *step_values)
            except _EVAL_ERRORS:
                failures["a step divides by zero"] += 1
                continue
            seen.add(var_values)
            variants.append(_variant(symbolic, strategy, seed, k, var_values, slot_values, final))
            break
    if variants:
        return variants
    reason = "constraints-unsatisfied" if constrained else "no-new-values"
    if set(failures) <= {"same values as the original or an earlier variant"}:
        reason = "no-new-values"
    common = ", ".join(f"{what} ({count}x)" for what, count in failures.most_common(2))
    return Rejection(problem.source_id, problem.source_line, reason,
                     f"no draw in {tries} kept every constraint; most often: {common}")


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
    """Perturb every problem, in input order; Rejections from loading pass through."""
    strategies.get(strategy)  # fail fast on a bad name, before any worker starts
    options = dict(strategy=strategy, n=n, seed=seed, constrained=constrained, tries=tries)
    work = partial(_work, options)
    if workers <= 1:
        yield from map(work, items)
        return
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(work, items, chunksize=8)
