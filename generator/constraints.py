"""Sensibility constraints, inferred from the original problem.

Every quantity (a question number or a step result) keeps what it was: positive stays
positive, a whole number stays whole (eggs, people, days), a decimal keeps to cents; a
percentage of a whole (and a chance asked for as one) stays within (0, 100]; '5 days a week'
stays at most 7; a number or result that was not 1 does not become 1 (plurals; a ratio of 1
would end a pattern); a result the answer rounds stays a fraction. The final answer is a
step or a question number, so it keeps its kind too. Two results the solution does not tell
apart stay equal; two it compares ('since 1600 > 1200') stay in that order; a part of a
number ('8 puppies, 3 of which') stays below it. An amount a step takes away on the way
('12 - 15 + 20': 15 cookies thrown away before 20 more were baked) stays at most what there
was at that point, though the step's result would stay positive without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction

from mathgen.numbers import decimal_places

_CHANCE = re.compile(r"\b(?:probability|chance|likely)\b[\s\S]*\bpercent(?:age)?\b|\bpercent(?:age)?\b"
                     r"[\s\S]*\b(?:probability|chance)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Kind:
    """What a value was in the original, and so must stay."""

    sign: int  # 1 positive, 0 zero (stays >= 0), -1 negative
    integer: bool
    places: int  # most decimal places allowed when not an integer
    upper: Fraction | None = None
    not_one: bool = False
    exact: Fraction | None = None  # a pinned result keeps its value
    rounded: bool = False  # the answer rounds it: it stays a fraction ('round 6.75 up')
    # the largest whole number at most ``upper``: a whole value is compared with an int, not
    # a Fraction (the same answer, without Fraction arithmetic)
    _top: int | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self):
        if self.upper is not None:
            object.__setattr__(self, "_top", self.upper.numerator // self.upper.denominator)

    def admits(self, value: Fraction) -> str | None:
        """None when ``value`` keeps this kind; otherwise what it breaks."""
        if self.exact is not None and value != self.exact:
            return f"must stay {self.exact} (it could be read as a constant)"
        # on the numerator and denominator (an int's too): Fraction comparisons are slow
        num, den = value.numerator, value.denominator
        if self.rounded and den == 1:
            return "must not become a whole number (the answer rounds it)"
        if den == 1 and self.sign > 0 and num > 0:  # the common case, fast
            if self._top is not None and num > self._top:
                return f"must stay at most {self.upper}"
            return "must not become 1" if self.not_one and num == 1 else None
        if self.sign > 0 and num <= 0:
            return "must stay positive"
        if self.sign == 0 and num < 0:
            return "must not become negative"
        if self.sign < 0 and num >= 0:
            return "must stay negative"
        if self.integer:
            if den != 1:
                return "must stay a whole number"
        else:
            places = decimal_places(value)
            if places is None or places > self.places:
                return f"must keep to {self.places} decimal places"
        if self.upper is not None and value > self.upper:
            return f"must stay at most {self.upper}"
        if self.not_one and num == 1 and den == 1:
            return "must not become 1"
        return None


def kind_of(value: Fraction, upper: Fraction | None = None, quantity: bool = False) -> Kind:
    sign = (value > 0) - (value < 0)
    places = decimal_places(value)
    return Kind(sign, value.denominator == 1, max(places or 0, 2), upper,
                quantity and value != 1)


@dataclass(frozen=True)
class Constraints:
    variables: tuple[Kind, ...]  # for every variable, free and derived, in order
    steps: tuple[Kind, ...]
    final: Kind
    same: tuple[tuple[int, int], ...] = ()  # (later, earlier) steps whose results stay equal
    order: tuple[tuple[int, int], ...] = ()  # (greater, smaller) steps the solution compares
    parts: tuple[tuple[int, int], ...] = ()  # (whole, part) variables: the part stays below
    # (what it means, tree, strict): trees that stay at least 0 (strict: above 0): what a
    # step takes away on the way stays at most what was there; a group stays within the count
    # it is taken from; a constraint written in a templatized file holds
    taken: tuple[tuple[str, tuple, bool], ...] = ()
    names: tuple[str, ...] = ()  # of the variables, then the steps: what ``taken`` is over
    _left: object = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.taken:  # compiled once: evaluated on every draw
            from mathgen.expressions import RUNTIME, to_python

            body = "".join(f"{to_python(tree)}," for _, tree, _ in self.taken)
            env = dict(RUNTIME)
            exec(compile(f"def _left({', '.join(self.names)}):\n    return ({body})",  # noqa: S102
                         "<taken>", "exec"), env)  # our own trees
            object.__setattr__(self, "_left", env["_left"])

    def violation(self, var_values, step_values, final_value, names, variables=None):
        """The first broken constraint as (description, "variable"|"step"|"same"|"order"|"final",
        index, whether moving a number a little can mend it); None when all hold.
        ``variables``: the indices of the variables to check, when not all (a sampler
        checks the numbers it draws as it draws them)."""
        for i in range(len(self.variables)) if variables is None else variables:
            broken = self.variables[i].admits(var_values[i])
            if broken:
                return f"question number {names[i]} {broken}", "variable", i, False
        for whole, part in self.parts:
            if not var_values[part] < var_values[whole]:
                return (f"question number {names[part]} must stay below {names[whole]} (a part "
                        "of it)", "variable", part, False)
        for i, (kind, value) in enumerate(zip(self.steps, step_values)):
            broken = kind.admits(value)
            if broken:
                return f"step {i + 1} result {broken}", "step", i, kind.exact is not None \
                    or kind.sign == 0 or (kind.sign > 0) == (value > 0)
        for later, earlier in self.same:
            if step_values[later] != step_values[earlier]:
                return (f"step {later + 1} result must stay equal to step {earlier + 1}'s (it "
                        "could be read as either)", "same", later, True)
        if self._left is not None:
            for i, ((what, _, strict), left) in enumerate(
                    zip(self.taken, self._left(*var_values, *step_values))):
                if left < 0 or strict and left == 0:
                    return what, "taken", i, False
        for greater, smaller in self.order:
            if not step_values[greater] > step_values[smaller]:
                return (f"step {greater + 1} result must stay greater than step {smaller + 1}'s "
                        "(the solution compares them)", "order", greater, False)
        broken = self.final.admits(final_value)
        return (f"the answer {broken}", "final", 0, False) if broken else None


def infer(symbolic) -> Constraints:
    """Constraints of a symbolic problem, from its original values."""
    from mathgen.expressions import evaluate

    variables = tuple(kind_of(v.value, v.upper, quantity=True) for v in symbolic.variables)
    final = symbolic.final
    rounded = final[2][0][1] if final[0] == "call" and final[1] in ("ceil", "floor") else None
    steps = tuple(Kind(k.sign, k.integer, k.places, exact=s.value) if s.name in symbolic.pinned
                  else replace(k, rounded=True) if s.name == rounded
                  else k for s, k in ((s, kind_of(s.value, quantity=True))
                                      for s in symbolic.steps))
    env = {v.name: v.value for v in symbolic.variables} | {s.name: s.value for s in symbolic.steps}
    final = evaluate(symbolic.final, env)
    index = {s.name: i for i, s in enumerate(symbolic.steps)}
    same = tuple((index[later], index[earlier]) for later, earlier in symbolic.same)
    order = tuple((index[greater], index[smaller]) for greater, smaller in symbolic.order)
    # a chance asked for as a percentage is at most 100%
    chance = final <= 100 and _CHANCE.search(symbolic.problem.question)
    position = {v.name: i for i, v in enumerate(symbolic.variables)}
    parts = tuple((position[whole], position[part]) for whole, part in symbolic.parts)
    return Constraints(variables, steps, kind_of(final, Fraction(100) if chance else None),
                       same, order, parts, taken_away(symbolic.steps, env)
                       + covered(symbolic.covers, env), tuple(env))


def taken_away(steps, env) -> tuple[tuple[str, tuple], ...]:
    """(what it means, a subtraction inside a step, not the step itself) for every amount that a
    step takes away from a positive one on the way, when what was left there was not below
    zero ('12 - 7 + 20'): the story had that much at that point, so a variant must too."""
    from mathgen.expressions import evaluate, subtrees

    out = []
    for i, step in enumerate(steps):
        for part in list(subtrees(step.tree))[1:]:
            if part[0] == "sub" and evaluate(part[1], env) > 0 and evaluate(part[2], env) > 0 \
                    and evaluate(part, env) >= 0:
                out.append((f"step {i + 1} takes away more than there was at that point",
                            ("sub", part[1], part[2]), False))
    return tuple(out)


def covered(covers, env) -> tuple[tuple[str, tuple, bool], ...]:
    """The (whole, part, what, strict) bounds of the story (``structure.story_bounds``, or a
    templatized file's ``constraints:``) that hold in the original, as trees that stay at
    least 0 (strict: above 0)."""
    from mathgen.expressions import evaluate

    out = []
    for whole, part, what, strict in covers:
        left = evaluate(whole, env) - evaluate(part, env)
        if left > 0 or left == 0 and not strict:
            out.append((what, ("sub", whole, part), strict))
    return tuple(out)
