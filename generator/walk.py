"""Values built one number at a time, each kept within what the story lets it be.

Random draws (``search``) move every number at once. Under a large shift (``mmos-large``:
each number plus about 1,000) a problem whose story bounds some numbers rarely gets a draw
that keeps every constraint: 2 hours of work cannot hold three parts of 1,025 minutes, a
total pinned at 100 flowers cannot be three numbers near 1,000, and 1,047 shared by 1,012
is not whole. When every draw failed, the search walks instead, from the original values
(which keep every constraint) and one number at a time, in an order the seed shuffles:

- the strategy's own draw for the number, when the values then keep every constraint;
- else a value picked at random among those of the strategy's window for it (``window``)
  that keep every constraint given the numbers already placed: a multiple of the divisor
  drawn before it, a part below the whole, a count below the clock's 60 minutes;
- else, when a result is pinned or must be whole, a value from the window with another
  number moved to mend it (``search._mend``): the pinned 100 flowers become 62 + 3 + 35.

Each step keeps every constraint, so the values at the end do by construction; they are then
judged as a draw is (new, finite decimals, the prose's calculations still true). Numbers the
story leaves free get large values; only the bounded ones stay small.
"""

from __future__ import annotations

import random

from .search import EVAL_ERRORS, _mend

_WALKS = 4  # walks per variant, each in its own order
_MEND_TRIALS = 24  # values of one number tried with another number mending the result


def walked(search, rng: random.Random):
    """A result (as ``Search.judge`` gives it) built by walking, or None."""
    windows = [search.drawer.window(var) for var in search.free]
    if not search.free or any(w is None for w in windows):
        return None
    start = [var.value for var in search.free]
    trial = _Trial(search)
    for _ in range(_WALKS):
        values = _walk(search, windows, list(start), rng, trial)
        if values != start:
            result = search.judge(values)
            if result is not None:
                return result
    return None


def _walk(search, windows, values, rng, trial):
    """The values after one walk: each number moved once, or left where no move keeps
    every constraint."""
    free = search.free
    for i in rng.sample(range(len(free)), len(free)):
        var = free[i]
        proposed = search.drawer.propose(var, rng)
        if trial.keeps(values, i, proposed):
            values[i] = proposed
            continue
        options = trial.options(windows[i], values, i)
        if options:
            values[i] = options[rng.randrange(len(options))]
            continue
        mended = _mended(search, windows[i], values, i, rng)
        if mended is not None:
            values = mended
    return values


def _outcome(search, values):
    """(var_values, step_values, final) of free ``values`` and the first constraint they
    break (None when none), or None when a step cannot be worked out."""
    try:
        var_values, step_values, final = search.compiled.values(*values)
    except EVAL_ERRORS:
        return None
    keeps = search.drawer.keeps_derived
    if not all(keeps(v, var_values[i]) for i, v in search.derived):
        return (var_values, step_values, final), ("derived", "", 0, False)
    broken = search.limits.violation(var_values, step_values, final, search.labels)
    return (var_values, step_values, final), broken


class _Trial:
    """Whether free values with number ``i`` at ``x`` keep every constraint: only a yes or no
    comes back, so the checks may run in any order, cheapest and likeliest to fail first.

    A walk looks through a few thousand values of one number with the others fixed, and most
    of them fail the same way: the number's own bound, or one step (a share that is not
    whole). So a value is first checked against its own kind, then against the step the
    last refused value broke, computed alone (``Compiled.step``); only the values that pass
    both are worked out in full. Whole values go in as ints: the same results, without
    Fraction arithmetic. The values a walk can pick from, for one number given the others,
    are kept for the later walks of the same problem (each walk starts where the last did).
    """

    def __init__(self, search):
        self.search = search
        self.own = [search.limits.variables[k] for k in search.free_at]
        self.step = None  # the step the last refused value broke
        self.seen = search.walk_options  # walks of later variants start where these did

    def keeps(self, values, i, x) -> bool:
        if self.own[i].admits(x) is not None:
            return False
        search = self.search
        trial = [v.numerator if v.denominator == 1 else v for v in values]
        trial[i] = x.numerator if x.denominator == 1 else x
        k = self.step
        if k is not None:
            try:
                if search.limits.steps[k].admits(search.compiled.step(k)(*trial)) is not None:
                    return False
            except EVAL_ERRORS:
                return False  # working the whole problem out fails at this step too
        outcome = _outcome(search, trial)
        if outcome is None:
            return False
        broken = outcome[1]
        if broken is not None and broken[1] == "step":
            self.step = broken[2]
        return broken is None

    def options(self, window, values, i) -> list:
        """The values of ``window`` other than number ``i``'s own that keep every constraint
        with the other numbers at ``values``, in the window's order."""
        key = (i, tuple(values))
        found = self.seen.get(key)
        if found is None:
            own = self.search.free[i].value
            found = self.seen[key] = [x for x in window if x != own and self.keeps(values, i, x)]
        return found


def _mended(search, window, values, i, rng):
    """Free values with number ``i`` moved to a value of its window and another number
    moved so that the result it broke (pinned, or whole) holds again; None when no trial
    mends it."""
    free, drawer = search.free, search.drawer
    where = search.free_at

    def admissible(var, x):
        return search.admissible(var, x) and drawer.keeps(var, x)

    for x in rng.sample(window, min(_MEND_TRIALS, len(window))):
        if x == free[i].value:
            continue
        trial = values[:i] + [x] + values[i + 1:]
        outcome = _outcome(search, trial)
        if outcome is None or outcome[1] is None or not outcome[1][3]:
            continue
        fixed = _mend(search.compiled, search.limits, search.labels, free, trial, outcome[1],
                      search.depends, rng, admissible)
        if fixed is None:
            continue
        moved = [fixed[0][k] for k in where]
        check = _outcome(search, moved)
        if check is not None and check[1] is None:
            return moved
    return None
