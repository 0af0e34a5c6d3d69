"""Domains a person writes for the numbers of a templatized file, and drawing from them.

A variable of a ``mathgen templatize`` file takes its values from ``--strategy``, as the
source's number does, until someone gives it a domain::

    n0: {default: 16, range: [10, 20]}            # 10, 11, ..., 20
    n1: {default: 2.5, range: [1, 5], step: 0.5}  # 1, 1.5, ..., 5
    n2: {default: 3, choice: [3, 4, 6]}

Then every instance draws that number from its domain, under every strategy, and the
constraints still apply on top (a domain never lets a number break what it must stay).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

from .strategies import _DOMAIN_TRIES, Strategy

DOMAIN_KEYS = ("range", "step", "choice")
_MAX_RANGE = 10 ** 12  # values of one range: more than this is a mistyped bound


@dataclass(frozen=True)
class Domain:
    """The values a number may take: ``low, low + step, ..., high`` or the ``choices``."""

    low: Fraction = Fraction(0)
    step: Fraction = Fraction(1)
    count: int = 0
    choices: tuple[Fraction, ...] = ()

    @classmethod
    def of_range(cls, low: Fraction, high: Fraction, step: Fraction) -> Domain:
        """``low..high`` by ``step``; ValueError (what is wrong) when it is not a range."""
        if step <= 0:
            raise ValueError(f"the step {step} must be above 0")
        if high < low:
            raise ValueError(f"the range [{low}, {high}] is empty")
        span = (high - low) / step
        if span.denominator != 1:
            raise ValueError(f"{high} is not {low} plus a whole number of steps of {step}")
        if span >= _MAX_RANGE:
            raise ValueError(f"the range holds more than {_MAX_RANGE} values")
        return cls(low, step, int(span) + 1)

    @classmethod
    def of_choices(cls, values: tuple[Fraction, ...]) -> Domain:
        if not values:
            raise ValueError("a choice needs at least one value")
        # repeated values would weigh a value twice in draws but not in every-combination
        # search: each counts once
        return cls(choices=tuple(dict.fromkeys(values)))

    def __len__(self) -> int:
        return len(self.choices) if self.choices else self.count

    def __contains__(self, value) -> bool:
        if self.choices:
            return value in self.choices
        k = (Fraction(value) - self.low) / self.step
        return k.denominator == 1 and 0 <= k < self.count

    def pick(self, rng: random.Random) -> Fraction:
        k = rng.randrange(len(self))
        return self.choices[k] if self.choices else _tidy(self.low + k * self.step)

    def values(self) -> list:
        if self.choices:
            return list(self.choices)
        return [_tidy(self.low + k * self.step) for k in range(self.count)]


def _tidy(x: Fraction):
    # whole values as ints, as the strategies give them: the same draws, the same bytes
    return int(x) if x.denominator == 1 else x


class Within(Strategy):
    """A strategy whose numbers with a domain are drawn from it; the others as ``base``
    draws them."""

    def __init__(self, base: Strategy, domains: dict[str, Domain]):
        self.base, self.domains, self.name = base, domains, base.name

    @property
    def can_relax(self) -> bool:
        return self.base.can_relax

    def relax(self) -> None:
        self.base.relax()

    def propose(self, var, rng):
        own = self.domains.get(var.name)
        return own.pick(rng) if own is not None else self.base.propose(var, rng)

    def keeps(self, var, value) -> bool:
        own = self.domains.get(var.name)
        return value in own if own is not None else self.base.keeps(var, value)

    def domain(self, var, limit):
        own = self.domains.get(var.name)
        if own is None:
            return self.base.domain(var, limit)
        return own.values() if len(own) <= limit else None

    def keeps_derived(self, var, value) -> bool:
        return self.base.keeps_derived(var, value)

    def draw(self, variables, rng, admissible):
        drawn = self.base.draw(variables, rng, admissible)
        out = []
        for var, value in zip(variables, drawn):
            own = self.domains.get(var.name)
            if own is not None:
                for _ in range(_DOMAIN_TRIES):
                    value = own.pick(rng)
                    if admissible(var, value):
                        break
                else:
                    value = var.value  # the default lies in the domain (checked on loading)
            out.append(value)
        return out
