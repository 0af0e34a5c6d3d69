"""Drawing a template's numbers from domains that its conditions have narrowed first.

Drawing every number and then testing the conditions refuses most draws when a condition is
rare (``x % y == 0``, ``is_int(total / parts)``, ``a + b <= 100``). Here the numbers are drawn
in the order the file declares them, and a single number's domain is first cut down to the
values that keep every condition whose other numbers are already drawn::

    y from range(2, 20)         -> 7
    x from range(10, 500)       -> narrowed by 'x % y == 0' to 14, 21, ..., 497 -> 140

A condition over one number alone narrows its domain once per template; one over numbers
drawn earlier narrows it once per combination of their values (kept, so later draws with the
same values cost nothing). Draws of several values at once (``sample(names, 2)``) and domains
larger than ``NARROW_LIMIT`` are drawn as they are, and the conditions over them are tested
as soon as their numbers are drawn, so a draw that breaks one stops there.

Each number is uniform over what the conditions leave it given the numbers before it (not
uniform over all solutions at once, as refusing whole draws was). Nothing is relaxed: every
instance is still checked in full by ``Template.complete``.
"""

from __future__ import annotations

import random

NARROW_LIMIT = 2_000  # values tested to narrow one domain; beyond, drawing then testing is cheaper
_MEMO_LIMIT = 50_000  # narrowed domains kept per template
_TRIES = 1  # plain draws of one number before its domain is narrowed
_NONE = object()  # nothing left to draw


class Narrowed:
    """The draws of a template, each with the conditions that can be tested once it is drawn."""

    def __init__(self, template, draws):
        early, _ = template.checks()
        bound: set[str] = set()
        self.plan = []
        for draw in draws:
            names = set(draw.names)
            here = tuple((text, check) for text, check, read in early
                         if read & names and read <= bound | names)
            read = set().union(*(r for _, _, r in early if r & names and r <= bound | names))
            keys = tuple(sorted(read - names))
            narrow = bool(here) and draw.mode == "one" and len(draw.domain) <= NARROW_LIMIT
            self.plan.append((draw, here, keys, narrow))
            bound |= names
        self._memo: dict = {}

    def draw(self, rng: random.Random) -> tuple[dict | None, str | None]:
        """Drawn values, or None and the condition that left nothing to draw."""
        values: dict = {}
        for i, (draw, here, keys, narrow) in enumerate(self.plan):
            if narrow:
                value = self._pick(i, draw, here, keys, values, rng)
                if value is _NONE:
                    return None, here[0][0]
                values[draw.names[0]] = value
                continue
            values.update(zip(draw.names, draw.random(rng)))
            for text, check in here:
                if not check(values):
                    return None, text
        return values, None

    def _pick(self, i, draw, here, keys, values, rng):
        """A value uniform over those of the domain that keep ``here`` given ``values``."""
        # values that are equal are one key (2 and 2.0 and 'twice'): the checks read values
        key = (i, *(values[k] for k in keys))
        try:
            options = self._memo.get(key)
        except TypeError:  # a value that is a list: never kept
            key, options = None, None
        if options is None:
            # a few plain tries first: where most values do, narrowing would cost more than
            # it saves; a value drawn and kept is as uniform over the admissible ones as a
            # value drawn from them
            name, trial = draw.names[0], dict(values)
            for _ in range(_TRIES):
                trial[name] = value = draw.domain[rng.randrange(len(draw.domain))]
                if all(check(trial) for _, check in here):
                    return value
            options = []
            for value in draw.domain:
                trial[name] = value
                if all(check(trial) for _, check in here):
                    options.append(value)
            if key is not None and len(self._memo) < _MEMO_LIMIT:
                self._memo[key] = options
        return options[rng.randrange(len(options))] if options else _NONE
