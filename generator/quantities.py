"""Which numbers of a question are quantities a variant may change, and which constants may
explain a number of a solution that is none of them.

A quantity keeps its value when it is a proportion, a range's end, a ratio's term, a unit
definition ('60 minutes in an hour'), a label ('on day seven') or the count of what the question
then enumerates ('three sets ... the third set'). Constants come from words of the text
(``units``) and from the fixed numbers of the question ('half', 'twice', '1/2').
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction

from mathgen.numbers import Mention, in_name

from . import sense, sense_relations
from .prose import nouns
from .units import (ORDINALS, calendar_bound, defines_unit, licensed_constants,
                    stated_definition, unit_bound)

_RAW_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# the value of a bill or a coin: money comes in these, whatever the story's numbers are
_DENOMINATION = re.compile(r"[ \t-]*(?:bills?|notes?|coins?)\b", re.IGNORECASE)  # '$20 bills'
_DENOMINATION_NAMED = re.compile(r"[ \t-]*(?:dollars?|euros?|pounds?|cents?|pesos?|rupees?|yen)"
                                 r"[ \t-]*(?:bills?|notes?|coins?)\b", re.IGNORECASE)
_CENTS = re.compile(r"\s*(?:cents?\b|\u00a2)")
_AS_AFTER = re.compile(r"\s+as\b", re.IGNORECASE)
_TIMES_AS = re.compile(r"\s+times\s+(?:as|more)\b", re.IGNORECASE)
# '4 of her friends', 'has 4 roommates': those and the one the question is about
_COMPANY = re.compile(r"\s+(?:of\s+(?:his|her|their|my|our)\s+)?(?:[a-z]+\s+)?(?:friends|"
                      r"roommates|siblings|cousins|classmates|teammates|colleagues|co-?workers)\b",
                      re.IGNORECASE)
_RANGE_AFTER = re.compile(r"\s?[-\u2013]\s?\d")
_RANGE_BEFORE = re.compile(r"\d\s?[-\u2013]\s?$")
_RATIO_AFTER = re.compile(r"\s?:\s?\d")  # a ratio 'p:q' keeps its terms
# 'on day seven he saw', 'page 1 is': a number after these nouns names one of them
_LABEL_BEFORE = re.compile(r"\b(?:days?|pages?|chapters?|grades?|years?|rounds?|levels?|"
                           r"episodes?|seasons?|stages?|steps?|rooms?|floors?|lanes?)\s+$",
                           re.IGNORECASE)
_LABEL_AFTER = re.compile(r"\s*(?:[,.;:!?)]|(?:and|or|to|through|is|was|are|were|he|she|it|"
                          r"they|we|I)\b)")
# degrees of a triangle or a straight line, of a circle or a full turn
_FACTS = {180: re.compile(r"\btriangles?\b|\bangles?\b|straight line", re.IGNORECASE),
          360: re.compile(r"\bcircles?\b|\bangles?\b|full turn", re.IGNORECASE)}
_THE_COUNT = re.compile(r"\b(?:the|all)\s+$", re.IGNORECASE)
_OF_THEM = re.compile(r"\s+of\s+(?:them|us|you|those)\b", re.IGNORECASE)
# 'the two take', 'the three have': a number word before a word that is no plural noun
_NO_NOUN = re.compile(r"\s*[.,;:?!]|\s+[a-z']*[a-rt-z']\b")
_RATIO_BEFORE = re.compile(r"\d\s?:\s?$")
# 'three kinds of cookies', '4 different flavors': a count of kinds a reader holds apart
_KINDS = re.compile(r"[ \t-]+(?:(?:different|distinct|other|more|new|equal|separate|unique|"
                    r"main|basic)[ \t]+)?(kinds?|types?|sorts?|flavou?rs?|colou?rs?|variet(?:y|ies)|"
                    r"groups?|rounds?|teams?|breeds?|species|brands?|styles?|shapes?|"
                    r"categor(?:y|ies)|genres?|toppings?|courses?|classes|sections?|parts?)\b",
                    re.IGNORECASE)
# the kinds the text then names: 'of girls and boys', ': red, blue and green'
# (items of one word, or of two: 'chocolate chip and oatmeal')
_NAMED = [re.compile(rf"{item}(?:,[ \t]+{item})*,?[ \t]+(?:and|or)[ \t]+{item}\b")
          for item in (r"[A-Za-z]+", r"[A-Za-z]+(?:[ \t]+[A-Za-z]+)?")]
_SENTENCE_END = re.compile(r"[.?!;](?:\s|$)")
KINDS_BOUND = 20  # a story rarely tells apart more kinds than this; one that has more, twice


@dataclass(frozen=True)
class Variable:
    """A number of the question that a strategy may change (equal numbers share one)."""

    name: str
    value: Fraction
    mentions: tuple[int, ...]
    percent: bool
    places: int
    upper: Fraction | None
    derived: tuple | None = None  # kept equal to this tree over free variables
    cents: bool = False  # '25 cents': also $0.25 in a solution that counts dollars
    times: bool = False  # '4 times as much as': with the other, 5 parts of a whole
    company: bool = False  # '4 of her friends': with her, 5 people
    # bounded by the sense of the story (a score, an age): the least it may be; a strategy
    # that cannot shift it and stay within the bound may draw it from here to the bound
    # instead of keeping it (``sense``)
    within: Fraction | None = None


def variables_of(question: str, mentions: tuple[Mention, ...], tied: frozenset,
               frozen: frozenset) -> tuple[Variable, ...]:
    """One variable per quantity of the question, but for the values in ``frozen``; equal
    ones in ``tied`` share a variable."""
    groups: dict = {}
    bounds: dict = {}
    keys: dict = {}
    sensed: dict = {}
    sensible = sense.limits(question, mentions)  # a score, an age, a tree's height
    squares = sense_relations.square_sides(question, mentions)
    for i, m in enumerate(mentions):
        if not m.quantity or m.value in (0, 1) or m.value in frozen:
            continue  # proportions keep their value; so do 0 and 1 (one of, a single ...)
        if _RANGE_AFTER.match(question, m.end) or _ends(_RANGE_BEFORE, question, m.start, 5):
            continue  # 'grades 4 - 7': a range keeps its ends in order
        if _RATIO_AFTER.match(question, m.end) or _ends(_RATIO_BEFORE, question, m.start, 5):
            continue  # 'boys to girls is 8:5': a ratio is the problem's rule, like a rate
        if _LABEL_AFTER.match(question, m.end) and _ends(_LABEL_BEFORE, question, m.start, 8,
                                                         spaces=True):
            continue  # 'on day seven he saw 90': a label, not a quantity
        if in_name(question, m):
            continue  # 'at Five Flags': a number in a name stays as written
        if (_DENOMINATION if m.money else _DENOMINATION_NAMED).match(question, m.end):
            continue  # 'five-dollar bills', '$20 bills', '50 cent coins': what money is made in
        if m.value in _FACTS and _FACTS[m.value].search(question):
            continue  # 'the angles of a triangle add up to 180 degrees': a fact
        if _enumerated(question, m):
            continue  # 'the first of three sets ... the third set': the count of a list
        if _THE_COUNT.search(question, max(0, m.start - 8), m.start) \
                and (_OF_THEM.match(question, m.end) or m.kind == "word"
                     and _NO_NOUN.match(question, m.end)):
            continue  # 'the three of them', 'the two take': the count of those it names
        kinds = _KINDS.match(question, m.end)
        if kinds and _names_them(question, kinds.end(), m.value):
            continue  # 'into two groups of girls and boys': the count of the groups it names
        bound = unit_bound(question, m.end)
        if bound is not None and m.value == bound \
                or stated_definition(question, m.start, m.end) is not None \
                or defines_unit(question, m.start):
            continue  # "60 minutes in an hour", "a month has 30 days": a definition
        # 'three angles' and '3 times' are not one quantity: a word ties only with words
        key = ("value", m.value, m.kind == "word") if m.value in tied else ("mention", i)
        key = keys[i] = keys.get(squares.get(i), key)  # a square's sides stay equal
        groups.setdefault(key, []).append(i)
        if i in sensible:
            bounds.setdefault(key, []).append(sensible[i][1])
            sensed[key] = sensible[i][0]
        if bound is not None and m.value < bound:
            bounds.setdefault(key, []).append(bound)
        if kinds and m.value.denominator == 1:
            # 'three kinds of cookies' never become 1616754 kinds; a story that already tells
            # many apart ('15 flavors') may have up to twice as many
            bounds.setdefault(key, []).append(max(KINDS_BOUND, 2 * m.value))
        calendar = calendar_bound(question, m.end)  # '45 minutes a day': at most 1440
        if calendar is not None and m.value < calendar:
            bounds.setdefault(key, []).append(calendar)
    out = []
    for k, (key, idx) in enumerate(groups.items()):
        value = mentions[idx[0]].value
        percent = any(mentions[i].percent for i in idx)
        limits = list(bounds.get(key, []))
        if percent and value <= 100:
            limits.append(100)
        cents = any(_CENTS.match(question, mentions[i].end) for i in idx)
        times = any(_TIMES_AS.match(question, mentions[i].end) for i in idx)
        company = any(_COMPANY.match(question, mentions[i].end) for i in idx)
        out.append(Variable(f"n{k}", value, tuple(idx), percent,
                            max(mentions[i].places for i in idx),
                            Fraction(min(limits)) if limits else None, cents=cents,
                            times=times, company=company,
                            within=sensed.get(key) if key in sensed
                            and min(limits) == min(bounds[key]) else None))
    return tuple(out)


_AND = re.compile(r"[ \t]+and[ \t]+$")


def mixed_numbers(question: str, mentions, variables) -> list[tuple]:
    """'3 and 1/2 times', 'two and half dozen': a question number and the part of one written
    after it, as (value, tree, uses, label). The part is its own variable when it is one, and
    otherwise a fixed number (its use key, as ``constants_of`` names it)."""
    owner = {i: v for v in variables for i in v.mentions}
    out = []
    for i, m in enumerate(mentions[:-1]):
        part = mentions[i + 1]
        if i not in owner or m.value.denominator != 1 or not 0 < part.value < 1 \
                or part.kind not in ("fraction", "multiplier") \
                or not _AND.search(question, m.end, part.start):
            continue
        whole = owner[i]
        if i + 1 in owner:
            tree, uses = ("add", ("sym", whole.name), ("sym", owner[i + 1].name)), \
                (whole.name, owner[i + 1].name)
        else:
            tree, uses = ("add", ("sym", whole.name), ("const", part.value)), \
                (whole.name, f"f{part.value}")
        out.append((m.value + part.value, tree, uses,
                    f"the question's {m.value} and {part.text}"))
    return out


def _names_them(question: str, start: int, count: Fraction) -> bool:
    """Whether the clause from ``start`` names ``count`` kinds in one list ('of girls and
    boys', ': red, blue and green'): then the count is the list's length, and stays."""
    end = _SENTENCE_END.search(question, start)
    clause = question[start:end.start() if end else len(question)]
    for word in re.finditer(r"\b[A-Za-z]", clause):  # a list may start at any word
        for named in _NAMED:
            listed = named.match(clause, word.start())
            if listed and len(re.split(r",?[ \t]+(?:and|or)[ \t]+|,[ \t]+",
                                       listed.group())) == count:
                return True
    return False


def _ends(pattern: re.Pattern, text: str, end: int, width: int, spaces: bool = False) -> bool:
    """Whether ``pattern`` (ending in '$') matches ``text[:end]``, searched only in the last
    ``width`` characters (with ``spaces``: before the spaces that end it), not from the start."""
    start = end
    while spaces and start and text[start - 1].isspace():
        start -= 1
    return pattern.search(text, max(0, start - width), end) is not None


def _enumerated(question: str, m: Mention) -> bool:
    """Whether the question counts what it then enumerates up to the last, or the one after
    ('three sets' and 'the third set'; 'the first five tests' and 'the sixth test'; 'for 11
    months' and 'the 12th month'), so the count cannot change without the text."""
    if m.value.denominator != 1:
        return False
    ordinals = _ordinals(question)
    if not any(n in ordinals for n in (m.value, m.value + 1)):  # the common case, fast
        return False
    return any(word.startswith(noun) for n in (m.value, m.value + 1)
               for words in ordinals.get(n, ()) for word in words
               for noun in nouns(question, m.end))


_ORDINAL = re.compile(rf"\b(?:(\d+)(?:st|nd|rd|th)|({'|'.join(ORDINALS.values())}))\b"
                      r"(?:[ -]([a-z]+))?(?:[ -]([a-z]+))?", re.IGNORECASE)
_ORDINAL_VALUE = {word: n for n, word in ORDINALS.items()}


@functools.lru_cache(maxsize=256)
def _ordinals(question: str) -> dict[int, list[tuple[str, ...]]]:
    """The ordinals of a question ('the sixth test', 'the 12th month'): value -> the one or
    two words after each (what it counts is the first, or the second after an adjective)."""
    out: dict[int, list] = {}
    for m in _ORDINAL.finditer(question):
        n = int(m.group(1)) if m.group(1) else _ORDINAL_VALUE[m.group(2).lower()]
        words = tuple(w.lower() for w in m.group(3, 4) if w)
        out.setdefault(n, []).append(words)
    return out


def constants_of(question: str, prose: str, mentions, variables) -> dict[Fraction, list]:
    """Values a literal may take without being a variable: [(cost, label, use key or None,
    divisor preferred)]. 'half' explains a 2 best where something is divided by it.

    A number the question fixes ('half', 'one', '1/2') explains one literal cheaply, and
    is expected to be used; a unit constant licensed by a word (60 for minutes) costs more.
    """
    out: dict[Fraction, tuple] = {}

    def add(value, cost, label, key=None, divisor=False):
        entries = out.setdefault(Fraction(value), [])
        entries.append((cost, label, key, divisor))
        entries.sort(key=lambda e: (e[0], e[3]))

    for value, word in licensed_constants(question + " " + prose).items():
        add(value, 1.0, f"the constant {value} ({word})")
    variable_mentions = {i for v in variables for i in v.mentions}
    for i, m in enumerate(mentions):
        if i in variable_mentions:
            continue
        label, key = f"the fixed number '{m.text}'", f"f{m.value}"
        add(m.value, 0.2, label, key)
        if m.value:
            add(1 / m.value, 0.2, label, key, divisor=m.value < 1)
        if m.kind == "multiplier" and m.value > 1 and _AS_AFTER.match(question, m.end):
            add(m.value + 1, 1.0, f"{label} and the one part more", key)  # 2/3 are chickens
        if m.kind == "fraction":
            add(m.value.numerator, 0.2, label, key)
            add(m.value.denominator, 0.2, label, key, divisor=True)
            if m.value < 1:
                add(1 - m.value, 0.5, label, key)
        if m.percent:
            add(m.value / 100, 0.2, label, key)
            add(100, 0.2, label, key)
    covered = {(m.start, m.end) for m in mentions}
    for raw in _RAW_NUMBER.finditer(question):  # times, ordinals: 7:30, 2nd
        if not any(s <= raw.start() < e for s, e in covered):
            add(Fraction(raw.group()), 0.5, f"the fixed number '{raw.group()}'")
    return out
