"""Resolving what the binding of literals cannot tell apart, so that every reading left gives
the same answer: equal results kept equal, results pinned to their value, question numbers
tied to a result or frozen (the build starts again), and tied numbers made derived."""

from __future__ import annotations

from dataclasses import replace

from mathgen import expressions
from mathgen.errors import UnsupportedProblem
from mathgen.expressions import const, sym

from . import binding
from .binding import Ambiguity, Candidate, Retie
from .quantities import Variable


def pinned(pins: set[str], same: dict[str, str], step_values) -> dict:
    """Step index -> the value it keeps, or the name of the earlier result it equals."""
    return {int(later[1:]): earlier for later, earlier in same.items()} \
        | {int(name[1:]): step_values[int(name[1:])] for name in pins}  # a pin is stronger


def choose(lit_options, steps, capacity, must_use, describe, values, step_values, pins,
            scaling=frozenset(), same=None):
    """``binding.choose``, resolving ambiguities that cannot change an answer.

    When the question's 200 and a result of 200 cannot be told apart, they are kept equal in
    every variant (the number is tied to the step), so both readings give the same answer.
    When the question's 2 cannot be told apart from the 2 of 'twice' or 'half', it keeps its
    value (the build starts again with it frozen).
    When a result cannot be told apart from a constant, it is pinned: it keeps its value in
    every variant (``pins`` collects the step names). Two results that cannot be told apart
    stay equal to each other (``same`` maps the later to the earlier).
    """
    same = {} if same is None else same
    ties: dict[str, str] = {}
    while True:
        try:
            kept = pinned(pins, same, step_values)
            return binding.choose(lit_options, steps, capacity, must_use, describe, kept), ties
        except Ambiguity as amb:
            trees = sorted((amb.first.tree, amb.second.tree))
            names = [t[1] for t in trees if t[0] == "sym"]
            steps_named = [n for n in names if n[0] == "s"]
            settled = pins | set(same)
            if len(steps_named) == len(names) == 2 and not set(steps_named) & settled:
                # two equal results stay equal in every variant: either reading is right
                earlier, later = sorted(steps_named, key=lambda name: int(name[1:]))
                same[later] = earlier
                continue
            if len(steps_named) == len(names) and names and not set(steps_named) <= settled:
                # a result equal to a constant (12 inches a foot) keeps its value in every
                # variant, so either reading is right
                pins.update(steps_named)
                continue
            if len(names) == 2 and names[0][0] == names[1][0] == "n" \
                    and values[names[0]] == values[names[1]]:
                raise Retie(values[names[0]])
            if len(names) == 2 and names[0][0] == "n" and names[1][0] == "s" \
                    and names[0] not in ties:
                var, step = names
                ties[var] = step
                lit_options = [[c for c in opts if c.tree != sym(var)]
                               if any(c.tree == sym(step) for c in opts) else opts
                               for opts in lit_options]
            else:
                uses = set(amb.first.uses) | set(amb.second.uses)
                if uses & scaling and len(names) == 1 and names[0][0] == "n":
                    raise Retie(values[names[0]], underused=True)
                involved = {u for u in uses if u[0] == "n"}
                if not involved or any(u[0] == "s" for u in uses):
                    raise
                # question numbers that cannot be told apart from a fixed number, or from
                # each other in another form (4 lessons, or 100/25%), keep their values
                fixed = {var: const(values[var]) for var in involved}
                lit_options = [[Candidate(expressions.substitute_symbols(c.tree, fixed), 0.2,
                                          tuple(u for u in c.uses if u not in fixed), c.label)
                                if set(c.uses) & set(fixed) else c for c in opts]
                               for opts in lit_options]
                for var in fixed:
                    must_use.pop(var, None)
                continue
            must_use.pop(var, None)


def tie(variables, ties: dict[str, str], steps) -> tuple[Variable, ...]:
    """Variables tied to a step become derived: their value is the step's, over free variables."""
    trees = {st.name: st.tree for st in steps}
    derived = {}
    for var, step in ties.items():
        tree = ("sym", step)
        for _ in range(len(steps) + len(ties) + 1):
            expanded = expressions.substitute_symbols(tree, {**trees, **derived})
            if expanded == tree:
                break
            tree = expanded
            if expressions.size(tree) > 2000:
                raise UnsupportedProblem("ambiguous-binding", f"the question's number {var} "
                                         f"equals {step}, whose formula is too large to follow")
        if tree == ("sym", var) or var in expressions.symbols(tree) and identity(tree, var):
            continue  # '100 pennies ... 100 x 1 = <<100=100>>': the result is the number itself
        if var in expressions.symbols(tree) or any(n in ties for n in expressions.symbols(tree)):
            # the number and the result are equal but depend on each other: the number keeps
            # its value (and so does the result, pinned when the build starts again)
            raise Retie(next(v.value for v in variables if v.name == var), underused=True)
        derived[var] = tree
    return tuple(replace(v, derived=derived.get(v.name)) for v in variables)


def identity(tree: tuple, var: str) -> bool:
    """Whether ``tree`` is ``var`` itself in every variant (3 * 1, 100 / 1)."""
    names = sorted(expressions.symbols(tree))
    for seed in (1, 2):
        env = expressions.random_point(names, seed)
        try:
            if eval(expressions.to_python(tree), env) != env[var]:  # noqa: S307 - our own tree
                return False
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return False
    return True
