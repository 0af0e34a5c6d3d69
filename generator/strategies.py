"""Perturbation strategies: how new values for a problem's numbers are drawn.

Each strategy proposes values for the free variables of a symbolic problem; constraints are
checked afterwards (``generator.constraints``). Look one up with ``get("digits:4")``.

==============  ============================================================================
similar         Same magnitude: same number of digits and trailing zeros, same decimal places
                (16 -> 10..99, 80,000 -> 10,000..90,000, $2.50 -> $1.00..$9.90); a number of
                the question worked out from others stays within a digit of its own. When
                no draw keeps every constraint, trailing zeros may go (60 -> 10..99).
                mathgen's own.
mmos-similar    Each number + round(N(5, 1)), drawn per number. MMOS paper (Chen et al., 2024).
mmos-large      Each number + round(N(1000, 300)), drawn independently per number, as the MMOS
                paper intended (its released code re-seeds the RNG per call, so every number
                got the same shift). When no draw keeps every constraint, the numbers the
                story bounds take values within 4 sigma of the shift that keep it (a part
                of 2 hours stays below 120 minutes; ``generator.walk``). For both MMOS
                strategies, a number the story bounds (a score out of 100, a child's age)
                that no shift keeps within the bound is drawn within it, near its original,
                or keeps its value.
gsm-hard        One number becomes a random 7-digit integer, as GSM-HARD (Gao et al., PAL,
                2023) built its items.
digits:K        Every number rescaled to K digits (a random K-digit number, decimals kept).
distractor      Numbers kept; one sentence with a number that changes nothing is added
                (GSM-IC, Shi et al. 2023; GSM-NoOp, Mirzadeh et al. 2024). See
                ``generator.distractors``.
==============  ============================================================================
"""

from __future__ import annotations

import difflib
import random
from fractions import Fraction
from typing import Callable

from mathgen.errors import MathgenError

_DOMAIN_TRIES = 10
_EXACT_FLOAT = 2 ** 52  # ints below this are exact as floats


class Strategy:
    """Draws new values for a problem's free variables."""

    name = ""
    can_relax = False  # whether ``relax`` widens the values drawn

    def propose(self, var, rng: random.Random) -> Fraction:
        raise NotImplementedError

    def relax(self) -> None:
        """Draw from a wider range from now on (when no draw kept every constraint)."""

    def keeps(self, var, value) -> bool:
        """Whether ``value`` is one this strategy could have drawn for ``var`` (mending a draw
        moves a number only within that)."""
        return True

    def domain(self, var, limit: int) -> list | None:
        """Every value this strategy may draw for ``var``, when there are at most ``limit``;
        otherwise (or when they are unbounded) None."""
        return None

    def keeps_derived(self, var, value) -> bool:
        """Whether ``value`` suits ``var``, a number of the question worked out from others
        (the 24 of '8, 16, 24, ...')."""
        return True

    def window(self, var) -> list | None:
        """Every value ``propose`` can give ``var``, in order, when they are few enough to
        look through (a few thousand); None otherwise (``generator.walk`` then does not
        build values one number at a time)."""
        return None

    def draw(self, variables, rng: random.Random, admissible: Callable) -> list[Fraction]:
        """One value per variable; a value outside its variable's domain is drawn again a few
        times, then the variable keeps its value (a percentage of a whole cannot grow by 1000).
        """
        out = []
        for var in variables:
            for _ in range(_DOMAIN_TRIES):
                value = self.propose(var, rng)
                if admissible(var, value):
                    break
            else:
                value = self.fallback(var, rng, admissible)
            out.append(value)
        return out

    def fallback(self, var, rng: random.Random, admissible: Callable) -> Fraction:
        """The value of a number none of whose draws was admissible: its own."""
        return var.value


def _number(units: int, scale: int):
    """``units / scale`` exactly: an int when whole (fast arithmetic), else a Fraction."""
    return units // scale if units % scale == 0 else Fraction(units, scale)


def _scaled(var) -> tuple[int, int]:
    """The value as an integer of its smallest written unit, and that unit's power of ten."""
    scale = 10 ** var.places
    return int(var.value * scale), scale


class Similar(Strategy):
    name = "similar"
    can_relax = True

    def __init__(self):
        self._plans: dict = {}
        self._relaxed = False

    def relax(self):
        """Trailing zeros may go: $60 split in quarters and thirds has no other round tens
        ($36 or $48 will do)."""
        self._relaxed = True
        self._plans.clear()

    def _plan(self, var):
        whole, scale = _scaled(var)
        if whole <= 0:
            return None
        digits = len(str(whole))
        zeros = 0 if self._relaxed else min(digits - len(str(whole).rstrip("0")), digits - 1)
        mantissa_digits = digits - zeros
        low = 10 ** (mantissa_digits - 1) if mantissa_digits > 1 else 1
        if digits == 1 and var.places == 0:
            low = 2  # single counts: 2..9 (1 would break plurals)
        return low, 10 ** mantissa_digits - 1, 10 ** zeros, scale

    def _cached_plan(self, var):
        # keyed by identity (a variable's own hash is slow), holding the variable so that
        # its id cannot be reused
        entry = self._plans.get(id(var))
        if entry is None or entry[0] is not var:
            if len(self._plans) > 4096:  # a long run: keep the memory flat
                self._plans.clear()
            entry = self._plans[id(var)] = (var, self._plan(var))
        return entry[1]

    def propose(self, var, rng):
        plan = self._cached_plan(var)
        if plan is None:
            return var.value
        low, high, zeros, scale = plan
        return _number(rng.randint(low, high) * zeros, scale)

    def domain(self, var, limit):
        plan = self._cached_plan(var)
        if plan is None:
            return [var.value]
        low, high, zeros, scale = plan
        if high - low >= limit:
            return None
        return [_number(units * zeros, scale) for units in range(low, high + 1)]

    def keeps(self, var, value):
        plan = self._cached_plan(var)
        if plan is None:
            return value == var.value
        low, high, zeros, scale = plan
        units = value * scale
        return units.denominator == 1 and units % zeros == 0 and low <= units // zeros <= high

    def keeps_derived(self, var, value):
        # within one digit of the original: '1, 2, 4, 8' may become '1, 3, 9, 27', not
        # '1, 7, 49, 343'
        return abs(len(str(abs(int(value)))) - len(str(abs(int(var.value))))) <= 1


class Shift(Strategy):
    """Each number plus round(N(mu, sigma)), drawn per number."""

    def __init__(self, name: str, mu: float, sigma: float):
        self.name, self.mu, self.sigma = name, mu, sigma
        # mending asks ``keeps`` of every value it tries; for whole numbers the float test
        # below is the same as one over ints when mu and 4 sigma are whole (they are for both
        # MMOS strategies), which skips building a Fraction per call
        whole = float(mu).is_integer() and float(4 * sigma).is_integer() \
            and abs(mu) < _EXACT_FLOAT
        self._whole = (int(mu), int(4 * sigma)) if whole else None

    def propose(self, var, rng):
        shift = round(rng.gauss(self.mu, self.sigma))
        value = var.value
        return value.numerator + shift if value.denominator == 1 else value + shift

    def window(self, var):
        # the shifts 'keeps' allows that 'propose' gives: whole ones within 4 sigma of mu
        if self._whole is None:
            return None
        mu, reach = self._whole
        base = int(var.value) if var.value.denominator == 1 else var.value
        return [base + mu + shift for shift in range(-reach, reach + 1)]

    def fallback(self, var, rng, admissible):
        """A number bounded by the sense of its story (a score out of 100, a child's age) that
        no shift keeps within its bound is drawn within it instead."""
        return _within(var, rng, admissible)

    def keeps(self, var, value):
        if self._whole is not None and type(value) is int and var.value.denominator == 1:
            shift = value - var.value.numerator - self._whole[0]
            if -_EXACT_FLOAT < shift < _EXACT_FLOAT:  # so float(shift) is exact, as before
                return abs(shift) <= self._whole[1]
        return abs(value - var.value - self.mu) <= 4 * self.sigma


def _within(var, rng, admissible):
    """A value of a bounded number as near its original as the bound leaves room: from the
    original less that room (or the least it may be, if more) up to the bound (a score of 80
    out of 100: 60..100), in the units it is written in; its own value when none of a few
    draws is admissible."""
    least = getattr(var, "within", None)
    if least is None or var.upper is None or var.upper <= var.value:
        return var.value
    scale = 10 ** var.places
    high = int(var.upper * scale)
    low = max(-(-max(least, 2 * var.value - var.upper) * scale // 1), 1)
    if low > high:
        return var.value
    for _ in range(_DOMAIN_TRIES):
        value = _number(rng.randint(low, high), scale)
        if value != var.value and admissible(var, value):
            return value
    return var.value


class GsmHard(Strategy):
    name = "gsm-hard"

    def propose(self, var, rng):
        return rng.randint(1_000_000, 9_999_999)

    def keeps(self, var, value):
        return Fraction(value).denominator == 1 and 1_000_000 <= value <= 9_999_999

    def draw(self, variables, rng, admissible):
        out = [v.value for v in variables]
        if variables:
            k = rng.randrange(len(variables))
            value = self.propose(variables[k], rng)
            if admissible(variables[k], value):
                out[k] = value
        return out


class Digits(Strategy):
    def __init__(self, k: int):
        self.k, self.name = k, f"digits:{k}"

    def propose(self, var, rng):
        scale = 10 ** var.places
        low = 10 ** (self.k - 1) if self.k > 1 else 2
        return _number(rng.randint(low * scale, 10 ** self.k * scale - 1), scale)

    def domain(self, var, limit):
        scale = 10 ** var.places
        low = 10 ** (self.k - 1) if self.k > 1 else 2
        if (10 ** self.k - low) * scale > limit:
            return None
        return [_number(units, scale) for units in range(low * scale, 10 ** self.k * scale)]

    def keeps(self, var, value):
        units = value * 10 ** var.places
        low = 10 ** (self.k - 1) if self.k > 1 else 2
        return Fraction(units).denominator == 1 and low * 10 ** var.places <= units < 10 ** (
            self.k + var.places)


_REGISTRY: dict[str, Callable[[], Strategy]] = {
    "similar": Similar,
    "mmos-similar": lambda: Shift("mmos-similar", 5, 1),
    "mmos-large": lambda: Shift("mmos-large", 1000, 300),
    "gsm-hard": GsmHard,
}
NAMES = tuple(_REGISTRY) + ("digits:K", "distractor")
DISTRACTOR = "distractor"


def check(name: str) -> None:
    """Raise the MathgenError of ``get`` for a name that is no strategy at all."""
    if name != DISTRACTOR:
        get(name)


def get(name: str) -> Strategy:
    """The number-drawing strategy called ``name``; a MathgenError that suggests names
    otherwise."""
    if name in _REGISTRY:
        return _REGISTRY[name]()
    if name.startswith("digits:"):
        k = name.split(":", 1)[1]
        if k.isdigit() and 1 <= int(k) <= 15:
            return Digits(int(k))
        raise MathgenError(f"strategy {name!r}: K must be a whole number from 1 to 15 "
                           "(for example digits:4)")
    close = difflib.get_close_matches(name, list(_REGISTRY) + ["digits:4", DISTRACTOR], n=1)
    hint = f"; did you mean {close[0]!r}" if close else ""
    raise MathgenError(f"unknown strategy {name!r}{hint}; available: {', '.join(NAMES)}")
