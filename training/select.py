"""Choosing paths: one per normal form, then the k most diverse per question, then the mix.

    kept = Distinct()
    kept.add(form, completion, ident)     # a second path with the same form is a duplicate
    chosen = most_diverse(kept.forms(), k=3)
    copies = mix_copies(len(questions), ratio=Fraction(1, 2), seed=0, name="gsm8k")

Every choice depends on the paths' texts only, never on the order they came in, so a build
gives the same bytes whatever the order of paths within a question and however many workers
normalised them:

* of paths with one normal form, the one kept is the shortest completion (then the first in
  code-point order);
* the first path chosen is the one with the shortest normal form (then the first in order);
  each next one is the path farthest from all chosen ones (the largest smallest normalised
  Levenshtein distance to them), ties going to the shorter form. That greedy choice is a
  prefix of itself: the paths kept with ``k=2`` are the first two kept with ``k=3``;
* a mix ratio ``r`` gives every question ``floor(r)`` copies of its paths and a seeded sample
  of ``round(frac(r) * questions)`` questions one copy more.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from fractions import Fraction


MAX_RATIO = 1000


def _order(text: str) -> tuple[int, str]:
    return len(text), text


class Distinct:
    """The paths of one question, one per normal form."""

    __slots__ = ("paths",)

    def __init__(self):
        self.paths: dict[str, tuple] = {}  # normal form -> (completion, ident) kept for it

    def add(self, form: str, completion: str, ident=None) -> tuple[bool, object]:
        """Keep the path. Returns (True, None) for a new form, else (False, the ident of the
        path that is now the duplicate: this one, or the one it displaces)."""
        held = self.paths.get(form)
        if held is None:
            self.paths[form] = (completion, ident)
            return True, None
        if _order(completion) < _order(held[0]):
            self.paths[form] = (completion, ident)
            return False, held[1]
        return False, ident

    def __len__(self) -> int:
        return len(self.paths)


def most_diverse(forms, k: int) -> list[str]:
    """Up to ``k`` forms, greedily the farthest from those already chosen (see the module doc)."""
    from rapidfuzz.distance import Levenshtein

    rest = sorted(forms, key=_order)
    if k <= 0 or not rest:
        return []
    chosen = [rest.pop(0)]
    nearest = [math.inf] * len(rest)  # each form's distance to the closest chosen one
    while rest and len(chosen) < k:
        last = chosen[-1]
        best = -1
        for i, form in enumerate(rest):
            d = Levenshtein.normalized_distance(last, form)
            if d < nearest[i]:
                nearest[i] = d
            if best < 0 or nearest[i] > nearest[best]:  # strictly: ties keep the shorter
                best = i
        chosen.append(rest.pop(best))
        nearest.pop(best)
    return chosen


def k_table(distinct_counts, limit: int = 100) -> list[dict]:
    """Paths in the set for each k: the MMOS paper's k (paths per question) against N."""
    counts = [c for c in distinct_counts if c > 0]
    top = min(max(counts, default=0), limit)
    return [{"k": k, "questions": len(counts), "paths": sum(min(k, c) for c in counts)}
            for k in range(1, top + 1)]


def parse_ratio(text: str) -> Fraction:
    """A mix ratio: '1', '0.25', '1/3', '2.5' (ValueError when not a number in [0, 1000])."""
    text = text.strip()
    if not re.fullmatch(r"-?(?:\d{1,12}(?:\.\d{1,12})?|\.\d{1,12}|\d{1,12}/\d{1,12})", text):
        raise ValueError(f"{text[:40]!r} is not a ratio such as 1, 0.5 or 1/3")
    try:
        value = Fraction(text)
    except ZeroDivisionError:
        raise ValueError(f"{text!r} divides by zero") from None
    if not 0 <= value <= MAX_RATIO:
        raise ValueError(f"{text!r}: a ratio is between 0 and {MAX_RATIO}")
    return value


def mix_copies(count: int, ratio: Fraction, seed: int, name: str) -> list[int]:
    """How many copies of each of ``count`` questions (in a fixed order) go into the mix."""
    whole = math.floor(ratio)
    extra = round((ratio - whole) * count)
    digest = hashlib.sha256(f"{seed}\0{name}".encode()).digest()
    lucky = set(random.Random(digest).sample(range(count), extra)) if extra else set()
    return [whole + (i in lucky) for i in range(count)]
