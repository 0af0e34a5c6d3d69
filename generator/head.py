"""Numbers a solution works out in the head: '3 grades x 6 adults', '8 hours - 2 hours'.

A literal that is no number of the question, no earlier result and no known constant was
found by the writer without a calculation the text shows: counted ('fifth, sixth and seventh
graders': 3 grades), known ('February has 28 days'), or computed from other numbers ('a dozen
and a half'). A label is never guessed, so the reading does not pick one of these: every
number of the question and every earlier result that a small expression could have made the
literal from keeps its value (the numbers are frozen, the results pinned). Whichever way the
writer found it, the literal then has the same value in every variant, and it is read as a
constant. A literal that no such expression gives is a count or a fact of the story, which
no change of the question's numbers touches; only small whole numbers are read so, since a
larger one is more likely a sum worked out of several numbers at once.
"""

from __future__ import annotations

import re
from fractions import Fraction
from itertools import product

from mathgen.expressions import const

from .binding import Candidate
from .prose import nouns

# a literal no expression explains is read as a count or a fact only up to this value
COUNT_LIMIT = 12
LABEL = ", worked out in the head"
# what the writer may add, take, multiply or divide by without writing it
_SMALL = (Fraction(1), Fraction(2))
# units of measure (singular, as prose.word_after gives them): a number of one of them is a
# sum or difference only of numbers of the same unit, not of '2 containers' and '3 weeks'
UNITS = frozenset({"second", "minute", "hour", "day", "week", "month", "year", "inch", "foot",
                   "yard", "mile", "meter", "centimeter", "kilometer", "pound", "ounce", "gram",
                   "kilogram", "ton", "cup", "gallon", "quart", "pint", "liter", "dollar", "cent"})


class Hold(Exception):
    """Numbers of the question to freeze and results to pin before a literal found in the head
    can be read as a constant: build again with them held."""

    def __init__(self, literal: Fraction, values: frozenset, steps: frozenset):
        self.literal, self.values, self.steps = literal, values, steps


def _combine(a: Fraction, b: Fraction, added: bool = True):
    """What one operation makes of two numbers: 'for $250 I save $10 * 2' counts whole
    hundreds, so the whole part of a quotient of two or more by a round number is one too.
    Without ``added``, only products and quotients."""
    if added:
        yield a + b
    yield a * b
    if added:
        yield a - b
        yield b - a
    for top, bottom in ((a, b), (b, a)):
        if bottom:
            yield top / bottom
            if top / bottom > 2 and (top / bottom).denominator != 1 and bottom % 10 == 0:
                yield Fraction(top // bottom)


def sources(value: Fraction, live: dict, fixed: set, foreign: frozenset = frozenset()) -> set:
    """The keys of ``live`` (numbers that may change, by key) that some expression of one or
    two operations over live and fixed numbers, using at least one live number, turns into
    ``value``. A second operation finds a sum of three numbers; more would freeze nearly
    all. The keys in ``foreign`` count something else than ``value``: they are not added or
    taken."""
    found: set = set()
    atoms = [(v, (key,)) for key, v in live.items()] + [(v, ()) for v in fixed]
    pairs: dict[Fraction, set] = {}
    for (a, ka), (b, kb) in product(atoms, repeat=2):
        if not (ka or kb) or (ka and ka == kb):
            continue
        for out in _combine(a, b, added=not foreign.intersection(ka + kb)):
            pairs.setdefault(out, set()).add(ka + kb)
    for uses in pairs.get(value, ()):
        found.update(uses)
    # and a sum of three, two of them numbers that change: '3 sons, 2 daughters and their
    # mother' are 6 (a sum with one such number and two fixed ones is one step from it)
    for (a, ka), (b, kb), (c, kc) in product(atoms, repeat=3):
        keys = ka + kb + kc
        if len(keys) > 1 and len(set(keys)) == len(keys) and a + b + c == value \
                and not foreign.intersection(keys):
            found.update(keys)
    return found


def foreign_keys(unit: str | None, variables, mentions, question: str) -> frozenset:
    """The question numbers (and their percents) that count something else than a literal of
    ``unit`` ('5 school days' against '2 containers' and '3 weeks'); none when the literal's
    noun is no unit of measure or a number's noun is not known."""
    if unit not in UNITS:
        return frozenset()
    out = set()
    for v in variables:
        said = [nouns(question, mentions[i].end) for i in v.mentions]
        if said and all(said) and not any(unit in words for words in said):
            out.add(v.name)
        out.add(v.name + "%")
    return frozenset(out)


def written_results(prose: str) -> dict[Fraction, set[Fraction]]:
    """The numbers a solution's prose writes as the result of a calculation that the reader
    does not follow ('¼ * 24 = 6', '11:00 - 8:00 = 3 hours'), each with the numbers written in
    its calculations: whatever the writer did with them, the result keeps its value when they
    do."""
    out: dict[Fraction, set[Fraction]] = {}
    text = _ANNOTATED.sub(" ", prose)
    for m in _RESULT.finditer(text):
        start = max(text.rfind(stop, 0, m.start()) for stop in _CLAUSE) + 1
        try:
            value = Fraction(m.group(1).replace(",", ""))
            operands = {Fraction(x.replace(",", "")) for x in _NUMBER.findall(text, start,
                                                                               m.start())}
        except ValueError:
            continue
        out.setdefault(value, set()).update(operands - {0})
    return out


_ANNOTATED = re.compile(r"<<[^<>]*>>\s*\$?\s*[\d.,]*")  # a calculation the reader reads
_RESULT = re.compile(r"=\s*\$?\s*(\d[\d,]*(?:\.\d+)?)(?![\d.,]*\d)")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?|\.\d+")
_CLAUSE = ("\n", ": ", ";", "=", ". ", ", ", "because", "so ")


def _operands(value: Fraction, written: dict, live: dict, fixed: set, depth: int = 0):
    """The live keys a written calculation of ``value`` uses, through calculations of its own
    operands; None when one of its numbers is accounted for by none of them."""
    used = set()
    for number in written[value]:
        keys = {key for key, v in live.items() if v == number}
        if keys:
            used |= keys
        elif number in written and depth < 3:
            inner = _operands(number, written, live, fixed, depth + 1)
            if inner is None:
                return None
            used |= inner
        elif not (number in fixed or number <= 1 or number == value):
            return None
    return used


def explain(value: Fraction, result: Fraction, variables, step_values: list, pinned,
            constants: dict, held: frozenset, label: str, written: dict,
            foreign: frozenset = frozenset()) -> Candidate | None:
    """The constant reading of a literal found in the head, or None when the literal cannot be
    one; raises Hold with the numbers to keep first.

    ``result`` is the value of the literal's step, ``step_values`` the earlier results,
    ``pinned`` the indices of those that keep their value already, ``held`` the literals that
    earlier builds held numbers for, ``written`` what written_results found.
    """
    live: dict = {}
    for v in variables:
        live[v.name] = v.value
        if v.percent:
            live[v.name + "%"] = v.value / 100
    live |= {f"s{j}": sv for j, sv in enumerate(step_values) if j not in pinned}
    fixed = {c for c in constants if c.denominator == 1 and 0 < c <= 1000} | set(_SMALL)
    found = sources(value, live, fixed, foreign)
    if value in written:  # '¼ * 24 = 6': the calculation's own numbers made it
        operands = _operands(value, written, live, fixed | set(constants))
        if operands is None:
            return None
        found |= operands
    used = {key.rstrip("%") for key in found}
    if any(live[key] == result for key in used):
        return None  # '30 / 2 = 15' with 2 per 15 given: the step undoes its own literal
    if used:
        values = frozenset(v.value for v in variables if v.name in used)
        steps = frozenset(int(k[1:]) for k in used if k[0] == "s")
        raise Hold(value, values, steps)
    if value in held or (value.denominator == 1 and 1 < value <= COUNT_LIMIT):
        return Candidate(const(value), 1.0, (), label + LABEL)
    return None
