"""Finding new values for a problem's numbers that keep every constraint.

Two ways, chosen per problem:

- **Every combination, once.** When the strategy can give each number only a few values
  (a single count 2..9, a price $10..$90) and their combinations number at most twice the
  tries, each is tried once, in an order the seed shuffles. A variant that exists is found,
  and a problem whose sensible values run out stops after at most that many trials rather
  than a thousand vain draws per missing variant.
- **Random draws.** Otherwise each variant gets up to ``tries`` draws. Plain draws come
  first; when they keep failing, a near miss is mended (a number moved a few units so that a
  result that must be whole is: 47 eggs shared by 4 becomes 48), and after half the tries
  some numbers are held at their original values.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from fractions import Fraction

from mathgen.numbers import decimal_places, plain

from .constraints import Kind

_PLAIN_DRAWS = 30  # plain draws before near misses are mended
_MENDS = 48  # mending attempts per variant
_MEND_STEPS = 4  # numbers moved in one mending attempt
_MEND_REACH = 25  # units a number may move when a step is not linear in it
_COMBINATIONS_PER_TRY = 2  # every combination is tried when they are at most 2 x tries
EVAL_ERRORS = (ZeroDivisionError, ValueError, OverflowError, TypeError)
_EQUAL = Kind(0, True, 0, exact=Fraction(0))  # two results that must stay equal differ by 0
SAME = "same values as the original or an earlier variant"
UNVOUCHED = "a calculation written in the solution's prose would turn false"


class Search:
    """The values of one problem's variants, found one after another (see ``found``)."""

    def __init__(self, symbolic, compiled, limits, drawer, constrained: bool, tries: int):
        self.compiled, self.limits, self.drawer = compiled, limits, drawer
        self.constrained, self.tries = constrained, tries
        self.free = [v for v in symbolic.variables if v.derived is None]
        self.free_at = [i for i, v in enumerate(symbolic.variables) if v.derived is None]
        self.derived = [(i, v) for i, v in enumerate(symbolic.variables) if v.derived is not None]
        # drawn numbers are checked as they are drawn (and mended ones as they are moved):
        # only the numbers worked out from them are left to check
        self.worked_out = [i for i, _ in self.derived]
        self.labels = [plain(v.value) for v in symbolic.variables]
        # what each number must stay, by name (a drawn number is checked as it is drawn)
        self.kinds = {v.name: kind for v, kind in zip(symbolic.variables, limits.variables)}
        self.depends = _dependencies(symbolic, self.free)
        self.seen = {tuple(v.value for v in symbolic.variables)}
        self.failures: Counter = Counter()
        self.tried = 0  # draws or combinations judged
        self.mends = 0
        self.vouch = None  # the written solution's last check (selfcheck), given slot values
        self.walk_options: dict = {}  # what ``walk`` found each number may become, kept

    def admissible(self, var, value) -> bool:
        return not self.constrained or self.kinds[var.name].admits(value) is None

    def found(self, seed: int, source_id: str):
        """Results (variable values, step values, answer, written values), each new, one after
        another until no more can be found: take as many as wanted."""
        k, relaxed = 0, False
        domains = self._domains()
        if domains is not None:
            rng = random.Random(f"{seed}/{source_id}")
            for result in self._every(domains, rng):
                yield result
                k += 1
            if not self.drawer.can_relax:
                return
            self.drawer.relax()  # none left: a wider range, once
            wider = self._domains()
            if wider is not None:
                if wider != domains:
                    yield from self._every(wider, rng)
                return
            relaxed = True
        # a variant that no draw could give ends the search: later ones would fail the same
        # way. Where every draw failed, values built one number at a time may still do
        # (``walk``); they come after the draws, so what draws find stays as it was
        from .walk import walked

        while (result := self._drawn(random.Random(f"{seed}/{source_id}/{k}"), relaxed)
               or walked(self, random.Random(f"{seed}/{source_id}/{k}/walk"))):
            yield result
            k += 1

    def _domains(self) -> list[list] | None:
        """Each free number's possible values (its own among them: a number may stay), when
        their combinations are few enough to try every one; else None."""
        limit = _COMBINATIONS_PER_TRY * self.tries
        domains, size = [], 1
        for var in self.free:  # sized before any value is checked: most are too many
            values = self.drawer.domain(var, limit // size - 1)
            if values is None:
                return None
            size *= len(values) + 1
            domains.append(values)
        return [[x for x in values if x != var.value and self.admissible(var, x)] + [var.value]
                for var, values in zip(self.free, domains)]

    def _every(self, domains, rng):
        """The combinations that keep every constraint, in a shuffled order."""
        for index in _shuffled(math.prod(len(values) for values in domains), rng):
            drawn = []
            for values in domains:
                index, digit = divmod(index, len(values))
                drawn.append(values[digit])
            result = self.judge(drawn)
            if result is not None:
                yield result

    def _drawn(self, rng, relaxed: bool):
        """One result by random draws (with mending), or None after every try failed."""
        tries, drawer, free = self.tries, self.drawer, self.free
        self.mends = 0
        for count in range(tries if relaxed else 0, tries * (1 + drawer.can_relax)):
            attempt = count % tries
            if count == tries:  # no draw kept every constraint: a wider range, once
                drawer.relax()
                self.mends = 0
            drawn = drawer.draw(free, rng, self.admissible)
            if attempt >= tries // 2 and len(free) > 1:
                if attempt == tries // 2:
                    self.mends = 0  # holding numbers back: mending may succeed where it failed
                drawn = _hold_some(free, drawn, rng)
            # plain draws first; mending (slower) only when they keep failing
            mending = attempt >= _PLAIN_DRAWS and self.mends < _MENDS
            result = self.judge(drawn, rng if mending else None)
            if result is not None:
                return result
        return None

    def judge(self, drawn, mend_rng=None):
        """The results of ``drawn`` when they keep every constraint and are new, else None
        (and the failure is counted). With ``mend_rng``, a near miss may be mended."""
        self.tried += 1
        compiled, limits = self.compiled, self.limits
        try:
            var_values, step_values, final = compiled.values(*drawn)
        except EVAL_ERRORS:
            return self._fail("a step divides by zero")
        if var_values in self.seen:
            return self._fail(SAME)
        if self.constrained:
            keeps = self.drawer.keeps_derived
            if not all(keeps(v, var_values[i]) for i, v in self.derived):
                return self._fail("a number worked out from others would change its magnitude")
            broken = limits.violation(var_values, step_values, final, self.labels,
                                      self.worked_out)
            if broken and broken[3] and mend_rng is not None:
                self.mends += 1
                drawer = self.drawer
                mended = _mend(compiled, limits, self.labels, self.free, drawn, broken,
                               self.depends, mend_rng,
                               lambda var, x: self.admissible(var, x) and drawer.keeps(var, x),
                               (var_values, step_values, final))
                if mended is not None:
                    var_values, step_values, final = mended
                    broken = None if var_values not in self.seen else broken
            if broken:
                return self._fail(broken[0])
        try:
            slot_values = compiled.slots(*var_values, *step_values)
        except EVAL_ERRORS:
            return self._fail("a step divides by zero")
        if self.constrained and any(decimal_places(v) is None for v in slot_values):
            return self._fail("a written number would not be a finite decimal")
        if self.vouch is not None and not self.vouch(var_values, step_values, slot_values):
            return self._fail(UNVOUCHED)
        self.seen.add(var_values)
        return var_values, step_values, final, slot_values

    def _fail(self, what: str) -> None:
        self.failures[what] += 1


def _shuffled(size: int, rng: random.Random):
    """0..size-1 in a random order, one at a time (a Fisher-Yates shuffle done lazily: the
    first few cost no more than the whole list would)."""
    moved: dict[int, int] = {}
    for i in range(size):
        j = rng.randrange(i, size)
        yield moved.get(j, j)
        moved[j] = moved.get(i, i)


def _hold_some(free, drawn, rng) -> list:
    """The draw with a random part of the numbers (never all) back at their original values.

    Used once half the tries failed: a problem whose numbers cannot all move together and
    stay sensible (x - 8y with both shifted by 1,000) still gets a variant in which some move.
    """
    held = [rng.random() < 0.5 for _ in free]
    if all(held):
        held[rng.randrange(len(free))] = False
    return [var.value if hold else value for var, hold, value in zip(free, held, drawn)]


def _mend(compiled, limits, labels, free, drawn, broken, depends, rng, admissible,
          current=None):
    """Move one number a little so that a result that must be whole (or keep to cents, or
    stay pinned) is.

    The drawn values stay the strategy's, give or take a few units: 47 eggs shared by 4
    people becomes 48 rather than a new draw. Returns the values, or None.

    ``current``, when given, is what ``compiled.values`` gives for ``drawn`` (the caller
    has worked it out already); each nudge then starts from it instead of working it again.
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
        alone = compiled.step(k) if broken[1] == "step" else None
        fixed = None
        for j in rng.sample(candidates, len(candidates)):  # the first number that can mend it
            fixed = _nudge(compiled, kind, measure, values, j, free[j], rng, admissible, alone,
                           current)
            if fixed is not None:
                break
        if fixed is None:
            return None
        values[j] = fixed[0]
        current = fixed[1]
        broken = limits.violation(*fixed[1], labels)
        if broken is None:
            return fixed[1]
        if not broken[3]:
            return None
    return None


def _nudge(compiled, kind, measure, values, j, var, rng, admissible, alone=None, current=None):
    """The nearest value of variable ``j`` that makes ``measure`` (a step's result, or the
    difference of two) keep ``kind``, and the results.

    Most steps are linear in each number (a * x + b); then the offset is found by arithmetic
    over a period, not by trial. Otherwise nearby values are tried in turn, each first on
    ``alone`` (when given: the measured step computed by itself, ``Compiled.step``), which
    turns most of them down without working out the whole problem.
    """
    unit = Fraction(1, 10 ** var.places) if var.places else 1

    def run(x):
        try:
            return compiled.values(*values[:j], x, *values[j + 1:])
        except EVAL_ERRORS:
            return None

    def usable(x):
        return x != var.value and admissible(var, x)

    x = values[j]
    # the values as they stand were worked out already (``current``): the same results
    results = [current or run(x), run(x + unit), run(x + 2 * unit)]
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
    before, after = values[:j], values[j + 1:]
    for reach in range(1, _MEND_REACH + 1):
        for step in (reach, -reach) if rng.random() < 0.5 else (-reach, reach):
            trial = x + step * unit
            # the step alone first: it turns most values down, and costs less than asking
            # whether the value is usable (both must pass, so the order changes nothing)
            if alone is not None:
                try:
                    if kind.admits(alone(*before, trial, *after)) is not None:
                        continue
                except EVAL_ERRORS:
                    continue  # the whole problem fails at this step too
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
