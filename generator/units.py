"""Known constants of word problems: unit conversions and the words that license them.

A literal in a solution that is none of the question's numbers may still be explained by a
constant, but only one that the text gives a reason for: 60 needs minutes, hours or seconds
in the problem, 7 needs days or weeks, 100 needs percents, cents or centimetres. Words that
are numbers themselves (half, twice, a dozen, a third) are read as fixed numbers of the
question instead (see numbers.find_mentions).
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction

# the unit, not the ordinal of 'the second month'
_SECONDS = r"\bseconds\b|(?:per|/|\bone|\d)\s*second\b"
# value -> words (regex alternatives) whose presence licenses that constant
_LICENSED = {
    2: r"both|pair|couple|round[- ]trip|each way|back|twin|average"
       r"|every other|every second|biweekly|pint|quart|cup|weekend|rectangle|perimeter"
       r"|diameter|radius|rectang|triang|consecutive|\beyes?\b|\bears?\b|\bwings?\b"
       r"|bicycle|\bbikes?\b|\blegs?\b|(?:him|her|my|your)self and (?:his|her|my|your)\b",
    3: r"yard|feet|foot|teaspoon|tablespoon|triang|triplet",
    4: r"week|month|gallon|quart|season|square|rectang|consecutive|\blegs?\b|\bwheels?\b"
       r"|quadruplet",
    5: r"nickel|weekday|\bcents?\b|coin|\bfives\b|pentagon",
    6: r"hexagon|\bcubes?\b|insect",
    7: r"week|day",
    8: r"pint|gallon|ounce|cup|octagon|spider|octop|octuplet",
    10: r"dime|decade|percent|%|mm|millimet|\bcents?\b|coin|\btens\b",
    12: r"month|year|inch|feet|foot|hour|clock",
    16: r"ounce|pound|cup",
    24: r"hour|\bdays?\b(?=[\s\S]*\bminutes?\b)|\bminutes?\b(?=[\s\S]*\bdays?\b)",
    20: r"twenties|twenty-dollar|\$20 bill|nickel",
    25: r"quarter|\bcents?\b|coin",
    50: r"fifties|fifty-dollar",
    30: r"month|day|minute",
    31: r"month|day",
    52: r"week|year",
    60: rf"minute|hour|{_SECONDS}|mph|miles per|speed|\d:\d\d",
    100: r"percent|%|cent|century|hundred|meter|metre|penn|nickel|dime|quarters|coin",
    365: r"year|day",
    180: r"triang|angle|straight line",
    360: r"circle|angle|full turn",
    1000: r"thousand|kilo|milli|gram|meter|metre|liter|litre|ml|\bkg\b|\bkm\b",
    2000: r"ton|pound",
    1000000: r"million",
    1000000000: r"billion",
    3600: rf"hour|{_SECONDS}",
    5280: r"mile|feet|foot",
}
_DECIMAL_LICENSED = {
    Fraction(3, 2): r"and a half|and half",
    Fraction(314, 100): r"circle|circular|round|radius|diameter|circumference",
    Fraction(22, 7): r"circle|circular|round|radius|diameter|circumference",
    Fraction(1, 10): r"dime|percent|%",
    Fraction(1, 20): r"nickel",
    Fraction(1, 100): r"penn|cent|percent|%",
    Fraction(5, 100): r"nickel",
    Fraction(25, 100): r"quarter",
}

# (smaller unit, larger unit, how many of the smaller make one larger)
_DEFINITIONS = [
    ("days?", "weeks?", 7), ("hours?", "days?", 24), ("minutes?", "hours?", 60),
    ("seconds?", "minutes?", 60), ("months?", "years?", 12), ("weeks?", "years?", 52),
    ("days?", "years?", 365), ("inch(?:es)?", "(?:foot|feet)", 12), ("(?:foot|feet)", "yards?", 3),
    ("ounces?", "pounds?", 16), ("cents?", "dollars?", 100), ("centimet(?:er|re)s?", "met(?:er|re)s?", 100),
    ("met(?:er|re)s?", "kilomet(?:er|re)s?", 1000), ("grams?", "kilograms?", 1000),
    ("quarts?", "gallons?", 4), ("pints?", "quarts?", 2), ("years?", "decades?", 10),
    ("years?", "centur(?:y|ies)", 100), ("eggs?", "dozens?", 12), ("hours?", "weeks?", 168),
    ("days?", "months?", 31), ("weeks?", "months?", 5),
    ("(?:angles?|sides?|corners?)", "triangles?", 3), ("(?:angles?|sides?|corners?)", "squares?", 4),
    ("(?:angles?|sides?|corners?)", "rectangles?", 4), ("sides?", "pentagons?", 5),
    ("sides?", "hexagons?", 6), ("sides?", "octagons?", 8),
]
_LINK = r"(?:\s+(?:a|an|per|each|every|in|in a|in an|in one|of the|of a|of every|make up a|make a))\s+"
_DEFINITION_RES = [(re.compile(rf"\s*{small}{_LINK}{big}\b", re.IGNORECASE), factor)
                   for small, big, factor in _DEFINITIONS]
# 'a month has 30 days', 'an hour is 60 minutes': the larger unit first
_STATED_RES = [(re.compile(rf"\b(?:a|an|one|each|every)\s+{big}\s+(?:has|have|is|are|contains|"
                           rf"lasts|equals)\s+$", re.IGNORECASE),
                re.compile(rf"\s*{small}\b", re.IGNORECASE), factor)
               for small, big, factor in _DEFINITIONS]


ORDINALS = {2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh",
            8: "eighth", 9: "ninth", 10: "tenth", 11: "eleventh", 12: "twelfth",
            13: "thirteenth", 14: "fourteenth", 15: "fifteenth", 16: "sixteenth",
            17: "seventeenth", 18: "eighteenth", 19: "nineteenth", 20: "twentieth"}
_DAYS = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", re.IGNORECASE)
_WEEK = ["mon", "tues", "wednes", "thurs", "fri", "satur", "sun"]
_DAY_RANGE = re.compile(r"\b(mon|tues|wednes|thurs|fri|satur|sun)days?\s+(?:to|through|thru|"
                        r"until|till|-)\s+(mon|tues|wednes|thurs|fri|satur|sun)day\b", re.IGNORECASE)



def _anchors(words: str) -> tuple[str, ...] | None:
    """Plain letters that every match of the alternatives ``words`` contains (the longest run
    of each alternative outside groups, classes, escapes and optional letters), or None when
    some alternative has none: a cheap test before the regex."""
    out = []
    for alternative in _top_level(words):
        runs, run, depth, i = [], "", 0, 0
        while i < len(alternative):
            c = alternative[i]
            if c == "\\" or c in "([{":
                runs.append(run[:-1] if c == "{" else run)  # 'ab{0,1}': the b is optional
                run = ""
                depth += c in "(["
                i += 2 if c == "\\" else 1
                continue
            if c in ")]":
                depth -= 1
            elif depth == 0 and c in "?*" and run:
                run = run[:-1]  # the letter before is optional
            elif depth == 0 and (c.isalpha() or c in " -"):
                run += c
                i += 1
                continue
            runs.append(run)
            run = ""
            i += 1
        best = max(runs + [run], key=len)
        if len(best.strip()) < 2:
            return None
        out.append(best)
    return tuple(out)


def _top_level(words: str) -> list[str]:
    """The alternatives of a regex, split at the '|' outside groups."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(words):
        if words[i] == "\\":
            i += 2
            continue
        depth += words[i] in "([" and 1 or -(words[i] in ")]")
        if words[i] == "|" and depth == 0:
            parts.append(words[start:i])
            start = i + 1
        i += 1
    return parts + [words[start:]]


_LICENSED_RES = [(Fraction(value), re.compile(words), _anchors(words))
                 for table in (_LICENSED, _DECIMAL_LICENSED) for value, words in table.items()]

_LIST = re.compile(r"\b\d[\d,.]*(?:, \d[\d,.]*)+,? and (?:a )?\d[\d,.]*")
# 'Carlos, Jim and Carrey': a list of names (the people who share)
_WORD_LIST = re.compile(r"\b[A-Z][a-zA-Z]+(?:, [A-Z][a-zA-Z]+)+,? and [A-Z][a-zA-Z]+\b")
# 'John and DeSean', 'Tuesday and Thursday', 'Tom and I': two named
_PAIR = re.compile(r"(?<!, )\b[A-Z][a-zA-Z]+ and (?:[A-Z][a-zA-Z]+|I)\b")


def licensed_constants(text: str) -> dict[Fraction, str]:
    """Constants the words of ``text`` give a reason for, with the word that licenses each."""
    return dict(_licensed(text))


@functools.lru_cache(maxsize=256)
def _licensed(text: str) -> tuple[tuple[Fraction, str], ...]:
    lowered = text.lower()
    out: dict[Fraction, str] = {Fraction(0): "zero", Fraction(1): "one"}
    for m in _LIST.finditer(text):  # '30, 14, 21 and 25' licenses 4, the count (for a mean)
        out.setdefault(Fraction(len(re.findall(r"\d[\d,.]*", m.group()))), "a list's length")
    for m in _WORD_LIST.finditer(text):  # three people share equally: 60 / 3
        out.setdefault(Fraction(len(re.findall(r"[A-Za-z]+", m.group())) - 1), "a list's length")
    if _PAIR.search(text):  # they each make 14 / 2
        out.setdefault(Fraction(2), "a pair's count")
    for m in _DAY_RANGE.finditer(text):  # 'from Monday to Friday': 5 days
        first, last = (_WEEK.index(m.group(k).lower()) for k in (1, 2))
        out.setdefault(Fraction((last - first) % 7 + 1), f"the days from {m.group()}")
    days = {day.lower() for day in _DAYS.findall(text)}
    if len(days) > 2:  # 'on Monday ... Tuesday ... Friday': over 3 days, 300 / 3
        out.setdefault(Fraction(len(days)), "the days named")
    for value, words, anchors in _LICENSED_RES:
        if anchors is not None and not any(anchor in lowered for anchor in anchors):
            continue
        m = words.search(lowered)
        if m:
            out[value] = m.group()
    return tuple(out.items())


def ordinal_count(text: str) -> int | None:
    """How many things 'the first ..., second ... and third ...' count (3), if three or more:
    the prose may say '54 vlogs for 3 weeks'. Not for calculations: 'the third street' may
    be where a group triples, which is no count of streets."""
    lowered = text.lower()
    if not re.search(r"\bfirst\b", lowered):
        return None
    count = 1
    while count + 1 in ORDINALS and re.search(rf"\b{ORDINALS[count + 1]}\b", lowered):
        count += 1
    return count if count >= 3 else None


def unit_bound(text: str, end: int) -> int | None:
    """If a number ending at ``end`` counts small units per larger unit, how many fit.

    '5 days a week' -> 7; '8 hours per day' -> 24; '60 minutes in an hour' -> 60.
    """
    for pattern, factor in _DEFINITION_RES:
        if pattern.match(text, end):
            return factor
    return None


# (smaller unit, period, how many of the smaller fit in one period): the calendar and the
# clock bound a number of units said to fall within one period ('45 minutes a day')
_PERIODS = {"second": {"minute": 60, "hour": 3600, "day": 86400},
            "minute": {"hour": 60, "day": 1440, "week": 10080, "month": 44640},
            "hour": {"day": 24, "week": 168, "month": 744, "year": 8784},
            "day": {"week": 7, "month": 31, "year": 366},
            "week": {"month": 5, "year": 53}, "month": {"year": 12}}
_PERIOD_WORDS = {"minute": r"minute", "hour": r"hour", "week": r"week|workweek",
                 "month": r"month", "year": r"year",
                 # one day, or a part of one day: 'on Monday', 'each morning', 'daily'
                 "day": r"day|workday|(?:mon|tues|wednes|thurs|fri|satur|sun)day|morning|"
                        r"afternoon|evening|night|shift"}
_SMALL = {unit: re.compile(rf"[ \t-]*{unit}s?\b", re.IGNORECASE) for unit in _PERIODS}
# after the unit, on the same clause and before any other number: 'a', 'per', 'each', 'this',
# 'in the', 'on a particular', 'for the first' ... and the period, singular (one period:
# 'for 3 weeks' bounds nothing)
_ONE = (r"(?:a|an|per|each|every|this|that|the|one|on|same|single|whole|entire|particular|"
        r"first|last|next|typical|given|average)")
# what lies between: no other number, no end of a clause, and no other unit that the period
# could divide ('45 minutes at 3 miles per hour' is a speed, not minutes of an hour)
_BETWEEN = r"(?:(?!miles|km\b|kilomet|words|met(?:er|re)s|feet|pages|\$)[^.?!;:\d]){0,40}?"
_PERIOD_AFTER = {unit: re.compile(rf"{_BETWEEN}\b{_ONE}\s+(?:[a-z]+[ -])?"
                                  rf"({'|'.join(_PERIOD_WORDS[p] for p in periods)})\b(?!['-])",
                                  re.IGNORECASE)
                 for unit, periods in _PERIODS.items()}
# '8 hour day', 'a 5-day work week', 'hours daily'
_COMPOUND = {unit: re.compile(rf"[ \t-]*{unit}[ -]+(?:[a-z]+[ -])?"
                              rf"({'|'.join(_PERIOD_WORDS[p] for p in periods)})\b(?!['-])",
                              re.IGNORECASE)
             for unit, periods in _PERIODS.items()}
_ADVERB = {"daily": "day", "weekly": "week", "monthly": "month", "yearly": "year",
           "hourly": "hour"}
_ADVERB_AFTER = re.compile(rf"{_BETWEEN}\b(daily|weekly|monthly|yearly|hourly)\b",
                           re.IGNORECASE)


def calendar_bound(text: str, end: int) -> int | None:
    """How many units of the calendar or the clock fit in the one period a number ending at
    ``end`` is said to fall within: '45 minutes a day' -> 1440, '6 days in the month' -> 31,
    'an 8 hour day' -> 24, '3 hours on Monday' -> 24; None when none is said."""
    for unit, periods in _PERIODS.items():
        small = _SMALL[unit].match(text, end)
        if small is None:
            continue
        found = _COMPOUND[unit].match(text, end) or _PERIOD_AFTER[unit].match(text, small.end())
        if found:
            return periods[_period(found.group(1))]
        adverb = _ADVERB_AFTER.match(text, small.end())
        if adverb and _ADVERB[adverb.group(1).lower()] in periods:
            return periods[_ADVERB[adverb.group(1).lower()]]
    return None


def _period(word: str) -> str:
    word = word.lower()
    for period, words in _PERIOD_WORDS.items():
        if re.fullmatch(words, word):
            return period
    raise AssertionError(word)  # the patterns above only find the words of the table


def stated_definition(text: str, start: int, end: int) -> int | None:
    """The factor when the number at ``start:end`` states how many small units a larger one
    has ('a month has 30 days'); such a statement is a definition, whatever the number."""
    for before, after, factor in _STATED_RES:
        if after.match(text, end) and before.search(text, max(0, start - 40), start):
            return factor
    return None


# '1 hectare is equal to 10000 m^2', '(1 mile = 1.6 km)': one of a unit, stated in another
_ONE_UNIT_IS = re.compile(r"\b(?:1|one|One)\s+[A-Za-z]+\s*(?:is equal to|is equivalent to|"
                          r"equals|is the same as|=)\s*(?:about\s+|approximately\s+)?$")


def defines_unit(text: str, start: int) -> bool:
    """Whether the number at ``start`` says how much one of a unit is in another ('1 hectare
    is equal to 10000 m^2'): a definition, which a variant keeps, whatever the units."""
    return _ONE_UNIT_IS.search(text, max(0, start - 40), start) is not None


def answer_conversions(question: str) -> list[tuple[str, int]]:
    """How the answer may be the last result in other units: [('mul' or 'div', factor)].

    A question that asks for cents ('how much will each cost, in cents?') may be worked in
    dollars and the result multiplied by 100; one that asks how many gallons, in quarts and
    divided by 4. Only the unit the question's last sentence asks for counts.
    """
    ask = re.split(r"(?<=[.!?])\s+", question.strip())[-1]
    out = []
    for small, big, factor in _DEFINITIONS:
        if re.search(rf"\b{small}\b", ask, re.IGNORECASE):
            out.append(("mul", factor))
        if re.search(rf"\b{big}\b", ask, re.IGNORECASE):
            out.append(("div", factor))
    return out
