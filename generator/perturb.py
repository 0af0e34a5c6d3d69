"""Perturbing problems: find new values that meet every constraint (``search``), render.

Randomness comes from ``random.Random`` seeded with the seed, the problem's source id and
(for random draws) the variant's number, never from the global RNG or ``hash()``, so the
output is the same byte for byte whatever the worker count.
"""

from __future__ import annotations

from fractions import Fraction
from functools import partial
from itertools import islice
from typing import Iterable, Iterator

from mathgen.errors import UnsupportedProblem
from mathgen.expressions import RUNTIME, to_python
from mathgen.numbers import plain
from mathgen.records import Problem, Rejection, Variant

from . import render, strategies
from .constraints import infer
from .search import SAME, Search
from .selfcheck import ProseCheck, stale_values
from .symbolic import SymbolicProblem, build

DEFAULT_TRIES = 500


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
        self._symbolic, self._consts, self._env, self._free = symbolic, consts, env, free
        self._alone: dict[int, object] = {}

    def step(self, k: int):
        """A function of the free variables giving step ``k``'s result alone, computing only
        the steps and worked-out numbers it reads, in ``values``' order (a part of what
        ``values`` computes): where ``values`` gives a result, it gives the same; where it
        raises, so does ``values``. Mending tries many values that only this step decides."""
        if k not in self._alone:
            from mathgen.expressions import symbols

            symbolic, consts = self._symbolic, self._consts
            steps = symbolic.steps[:k + 1]
            needed = set(symbols(steps[k].tree))
            for s in reversed(steps[:k]):
                if s.name in needed:
                    needed |= symbols(s.tree)
            derived = [v for v in symbolic.variables if v.derived is not None]
            for v in derived:  # worked out from free variables only
                if v.name in needed:
                    needed |= symbols(v.derived)
            lines = [f"def _alone({', '.join(self._free)}):"]
            lines += [f"    {v.name} = {to_python(v.derived, consts)}" for v in derived
                      if v.name in needed]
            lines += [f"    {s.name} = {to_python(s.tree, consts)}" for s in steps
                      if s.name in needed or s is steps[k]]
            lines.append(f"    return {steps[k].name}")
            env = dict(self._env)
            env.update({name: int(value) if value.denominator == 1 else value
                        for value, name in consts.items()})
            exec(compile("\n".join(lines), "<step>", "exec"), env)  # noqa: S102 - our own trees
            self._alone[k] = env["_alone"]
        return self._alone[k]


def perturb_problem(problem: Problem, strategy: str = "similar", n: int = 1, seed: int = 0,
                    constrained: bool = True, tries: int = DEFAULT_TRIES,
                    cache=None) -> list[Variant] | Rejection:
    """Up to ``n`` distinct variants of one problem, or a Rejection saying why none.

    ``cache`` (a ``cache.SymbolicCache``) gives the symbolic form read in an earlier run.
    """
    if strategy == strategies.DISTRACTOR:
        from .distractors import add

        return add(problem, n, seed)
    try:
        symbolic = build(problem) if cache is None else cache.build(problem)
    except UnsupportedProblem as err:
        return Rejection(problem.source_id, problem.source_line, err.reason, err.detail)
    return sample(symbolic, strategy, n, seed, constrained, tries)


def sample(symbolic: SymbolicProblem, strategy: str, n: int, seed: int, constrained: bool = True,
           tries: int = DEFAULT_TRIES) -> list[Variant] | Rejection:
    """Draw variants of a symbolic problem."""
    problem = symbolic.problem
    drawer = strategies.get(strategy)
    if symbolic.domains:  # given in a templatized file: those numbers are drawn from them
        from .domains import Within

        drawer = Within(drawer, dict(symbolic.domains))
    search = Search(symbolic, Compiled(symbolic), infer(symbolic), drawer, constrained, tries)
    if not search.free:
        return Rejection(problem.source_id, problem.source_line, "nothing-to-perturb",
                         "no number of the question can change")
    search.vouch = _vouch(symbolic)
    variants = [_variant(symbolic, strategy, seed, k, *result)
                for k, result in enumerate(islice(search.found(seed, problem.source_id), n))]
    if variants:
        return variants
    failures = search.failures
    reason = "constraints-unsatisfied" if constrained else "no-new-values"
    if set(failures) <= {SAME}:
        reason = "no-new-values"
    common = ", ".join(f"{what} ({count}x)" for what, count in failures.most_common(2))
    return Rejection(problem.source_id, problem.source_line, reason,
                     f"no draw in {search.tried} kept every constraint; most often: {common}")


def _vouch(symbolic: SymbolicProblem):
    """A draw's last check, or None when there is nothing to check: a number of the question
    written again where no slot rewrites it keeps its value (stale_values), every
    calculation written in the prose that was true stays true (selfcheck), and a place
    stays a place (1st, 2nd)."""
    check = ProseCheck(symbolic.problem.solution)
    ordinals = [k for k, slot in enumerate(symbolic.slots) if slot.role == "ordinal"]
    stale, stale_steps = stale_values(symbolic)
    if not (check.needed or ordinals or stale or stale_steps):
        return None

    def vouch(var_values, step_values, slot_values) -> bool:
        if any(var_values[i] != value for i, value in stale) \
                or any(step_values[i] != value for i, value in stale_steps):
            return False
        if any(slot_values[k] < 1 or slot_values[k] != int(slot_values[k]) for k in ordinals):
            return False
        return check.keeps(render.solution(symbolic, list(slot_values)))
    return vouch


def _variant(symbolic, strategy, seed, k, var_values, step_values, final, slot_values
             ) -> Variant:
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
                workers: int = 1, cache=None) -> Iterator[list[Variant] | Rejection]:
    """Perturb every problem, in input order; Rejections from loading pass through.

    A bad strategy name raises here, before any problem is read or any worker starts.
    """
    strategies.check(strategy)
    options = dict(strategy=strategy, n=n, seed=seed, constrained=constrained, tries=tries,
                   cache=cache)
    return _results(partial(_work, options), items, workers)


def _results(work, items, workers: int):
    if workers <= 1:
        yield from map(work, items)
        return
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(work, items, chunksize=8)
