"""Number mentions in text, and writing numbers back in the same style.

``find_mentions("She sells eggs for $2.50 each, a dozen a day, 20% off")`` gives::

    Mention(text="2.50", value=Fraction(5, 2), kind="digits", money=True, places=2, ...)
    Mention(text="a dozen", value=Fraction(12), kind="multiplier", ...)
    Mention(text="20", value=Fraction(20), kind="digits", percent=True, ...)

Kinds: ``digits`` (16, 1,250, 0.75, .5), ``word`` (three, twenty-five, two hundred),
``fraction`` (1/2, two-thirds, 2 1/2) and ``multiplier`` (half, twice, double, triple,
a dozen, a quarter). Only ``digits`` and ``word`` mentions are quantities a perturbation
may change; fractions and multipliers are proportions and keep their value.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction

_ONES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1000000}
_DENOMS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "fourth": 4, "fourths": 4,
           "quarter": 4, "quarters": 4, "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6,
           "seventh": 7, "sevenths": 7, "eighth": 8, "eighths": 8, "ninth": 9, "ninths": 9,
           "tenth": 10, "tenths": 10, "twelfth": 12, "twelfths": 12}
_MULTIPLIERS = {"half": Fraction(1, 2), "twice": Fraction(2), "double": Fraction(2),
                "doubles": Fraction(2), "doubled": Fraction(2), "triple": Fraction(3),
                "tripled": Fraction(3), "triples": Fraction(3), "thrice": Fraction(3),
                "quadruple": Fraction(4), "quadrupled": Fraction(4), "dozen": Fraction(12),
                "dozens": Fraction(12)}
_WORD_BY_VALUE = {v: k for k, v in _ONES.items()} | {v: k for k, v in _TENS.items()}

_CARDINAL = "|".join(sorted(list(_ONES) + list(_TENS), key=len, reverse=True))
_WORD_NUMBER = (rf"(?:{_CARDINAL})(?:[- ](?:{'|'.join(_ONES)}))?"
                rf"(?:\s+(?:hundred|thousand|million)(?:[\s-]+(?:and\s+)?(?:{_CARDINAL})"
                rf"(?:[- ](?:{'|'.join(_ONES)}))?)?)*")
_FRACTION_WORD = (rf"(?:an?|one|{'|'.join(k for k in _ONES if k not in ('zero', 'one'))})"
                  rf"[- ](?:{'|'.join(_DENOMS)})")

_TOKEN = re.compile(
    # each family is tried only where it can start (a digit or '.'; a letter that starts a
    # word): most places of a text start none, and the lookbehinds below are slow
    r"(?=[\d.])(?:"
    r"(?P<time>\b\d{1,2}:\d{2}\b)"
    r"|(?P<mixed>(?<![\w.,/])\d+ \d+/\d+(?![\w/]))"
    r"|(?P<frac>(?<![\w.,/])\d+/\d+(?![\w/.]))"
    # after a '/' only when a word or a bracket is divided ('minutes/1.5', '(200+10)/3') or
    # by a decimal or a number with thousands ('6/1.5', '10,440,000/145,000'), not in a
    # fraction ('3/4')
    r"|(?P<digits>(?:(?<![\w.,/])|(?<=[a-zA-Z)]/)|(?<=\d/)(?=\d+\.\d|\d{1,3},\d{3})"
    r"|(?<=\d[xX]))"
    r"(?:\d{1,3}(?:,\d{3})+(?![\d])|\d+)(?:\.\d+)?"
    r"|(?:(?<![\w.,/])|(?<=\d/))\.\d+))"
    r"|(?=[a-zA-Z])(?<!\w)(?:"
    rf"(?P<fracword>{_FRACTION_WORD}\b)"
    r"|(?P<mult>(?:a\s+)?(?:" + "|".join(_MULTIPLIERS) + r")\b)"
    rf"|(?P<word>{_WORD_NUMBER}\b))",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_PERCENT_AFTER = re.compile(r"\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """One number written in a text, with what is needed to write a new value alike."""

    start: int
    end: int
    text: str
    value: Fraction
    kind: str  # digits | word | fraction | multiplier
    percent: bool = False
    money: bool = False
    commas: bool = False
    places: int = 0  # decimal places as written
    capitalized: bool = False

    @property
    def quantity(self) -> bool:
        """True when the mention is a quantity a perturbation may change."""
        return self.kind in ("digits", "word")


def parse_word_number(text: str) -> int | None:
    """Value of a spelled-out cardinal such as 'twenty-five' or 'two hundred and six'."""
    total, current = 0, 0
    seen = False
    for tok in re.split(r"[\s-]+", text.lower()):
        if tok in ("", "and"):
            continue
        if tok in _ONES:
            current += _ONES[tok]
        elif tok in _TENS:
            current += _TENS[tok]
        elif tok == "hundred":
            current = max(current, 1) * 100
        elif tok in ("thousand", "million"):
            total += max(current, 1) * _SCALES[tok]
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


def parse_decimal(text: str) -> Fraction:
    """Exact value of a plain decimal string such as '1,250.50' or '.5' (ValueError if not)."""
    cleaned = text.replace(",", "").strip()
    if cleaned.isascii() and cleaned.isdigit():  # the common case, fast
        return Fraction(int(cleaned))
    if not re.fullmatch(r"-?(?:\d+(?:\.\d*)?|\.\d+)", cleaned):
        raise ValueError(f"not a decimal number: {text!r}")
    return Fraction(cleaned)


def parse_answer(text: str) -> Fraction:
    """Exact value of a final answer as people write it: '$1,250.', '18' (ValueError if not)."""
    return parse_decimal(str(text).replace("$", "").strip().rstrip("."))


def find_mentions(text: str, fractions: bool = True) -> list[Mention]:
    """Every number mention in ``text``, left to right (times such as 7:30 are skipped).

    With ``fractions=False``, '60/100' gives two digit mentions, as a calculation reads it.
    """
    return list(_mentions(text, fractions))


@functools.lru_cache(maxsize=1024)
def _mentions(text: str, fractions: bool) -> tuple[Mention, ...]:
    """``find_mentions``, remembered: a problem read again (with two numbers tied) reads the
    same texts."""
    out: list[Mention] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind in ("frac", "mixed") and not fractions:
            for part in _DIGITS.finditer(m.group()):
                value = Fraction(part.group())
                out.append(Mention(m.start() + part.start(), m.start() + part.end(),
                                   part.group(), value, "digits"))
            continue
        s, e, raw = m.start(), m.end(), m.group()
        if kind == "time":
            continue
        if kind == "digits":
            times = text[e:e + 1] in ("x", "X") and text[e + 1:e + 2].isdigit()  # 10x6
            if e < len(text) and text[e].isalpha() and not _unit_suffix(text, e) and not times:
                continue  # 2nd, 10am: ordinals and times, not quantities
            value = parse_decimal(raw)
            places = len(raw.split(".")[1]) if "." in raw else 0
            percent = bool(_PERCENT_AFTER.match(text, e))
            money = s > 0 and text[s - 1] == "$" or (s > 1 and text[s - 2:s] == "$ ")
            out.append(Mention(s, e, raw, value, "digits", percent, money, "," in raw, places))
        elif kind in ("frac", "mixed"):
            if kind == "mixed":
                whole, frac = raw.split(" ")
            else:
                whole, frac = "0", raw
            num, den = frac.split("/")
            if int(den) == 0:
                continue
            out.append(Mention(s, e, raw, int(whole) + Fraction(int(num), int(den)), "fraction"))
        elif kind == "fracword":
            num_word, den_word = re.split(r"[- ]", raw.lower(), maxsplit=1)
            num = 1 if num_word in ("a", "an", "one") else _ONES[num_word]
            out.append(Mention(s, e, raw, Fraction(num, _DENOMS[den_word]), "fraction",
                               capitalized=raw[0].isupper()))
        elif kind == "mult":
            word = raw.lower().split()[-1]
            out.append(Mention(s, e, raw, _MULTIPLIERS[word], "multiplier",
                               capitalized=raw[0].isupper()))
        else:
            value = parse_word_number(raw)
            if value is None:
                continue
            percent = bool(_PERCENT_AFTER.match(text, e))
            out.append(Mention(s, e, raw, Fraction(value), "word", percent,
                               capitalized=raw[0].isupper()))
    return tuple(out)


def in_name(text: str, m: Mention) -> bool:
    """'at Five Flags': a capitalized number word inside a sentence, before a capitalized
    word, is part of a name."""
    before = text[:m.start].rstrip(" \t\"'“(")
    return m.kind == "word" and m.text[0].isupper() and bool(before) \
        and before[-1] not in ".!?:;\n" and bool(re.match(r"[ -][A-Z]", text[m.end:m.end + 2]))


def _unit_suffix(text: str, end: int) -> bool:
    """'5kg', '10km', '3ft' style suffixes are units, so the number is still a quantity."""
    m = re.match(r"[a-zA-Z]+", text[end:])
    return bool(m) and m.group().lower() in {
        "kg", "g", "km", "m", "cm", "mm", "ft", "lb", "lbs", "oz", "ml", "l", "mph", "k",
        "kb", "mb", "gb", "tb"}


def decimal_places(value: Fraction) -> int | None:
    """Places needed to write ``value`` exactly as a decimal; None if it never terminates."""
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    return max(twos, fives) if den == 1 else None


def plain(value: Fraction) -> str:
    """Exact plain decimal string ('18', '2.5', '-3.75'); 'p/q' when it never terminates."""
    if value.denominator == 1:
        return str(value.numerator)
    places = decimal_places(value)
    if places is None:
        return f"{value.numerator}/{value.denominator}"
    scaled = abs(value.numerator) * 10 ** places // value.denominator
    sign = "-" if value < 0 else ""
    digits = str(scaled).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def format_like(value: Fraction, like: Mention | None = None, *, commas: bool | None = None,
                places: int | None = None) -> str:
    """Write ``value`` in the style of ``like``: commas, decimal places, a word for words."""
    if like is not None and like.kind == "word" and value.denominator == 1 \
            and 0 <= value < 100 and not like.percent:
        word = number_word(int(value))
        return word[0].upper() + word[1:] if like.capitalized else word
    use_commas = like.commas if commas is None and like is not None else bool(commas)
    min_places = (like.places if like is not None else 0) if places is None else places
    if value.denominator == 1 and not min_places:  # a whole number, the common case, fast
        return f"{value.numerator:,}" if use_commas else str(value.numerator)
    text = plain(value)
    if "/" in text:
        return text
    sign = "-" if text.startswith("-") else ""
    text = text.lstrip("-")
    whole, _, frac = text.partition(".")
    if len(frac) < min_places:
        frac = frac.ljust(min_places, "0")
    if use_commas:
        whole = f"{int(whole):,}"
    return sign + whole + ("." + frac if frac else "")


def number_word(n: int) -> str:
    """English word for 0..99 ('seven', 'twenty-five')."""
    if n in _WORD_BY_VALUE:
        return _WORD_BY_VALUE[n]
    tens, ones = divmod(n, 10)
    return f"{_WORD_BY_VALUE[tens * 10]}-{_WORD_BY_VALUE[ones]}"


def starts_with_vowel_sound(rendered: str) -> bool:
    """Whether a number as written is read with a vowel first (an 8, an 11, an eighty)."""
    head = rendered.lstrip("$").lower()
    if not head:
        return False
    if head[0].isalpha():
        return head.startswith(("eight", "eleven"))
    digits = head.split(".")[0].replace(",", "")
    if not digits.isdigit():
        return False
    # read in groups of three: 11,000 is eleven thousand, 18,500,000 eighteen million
    group = digits[: len(digits) % 3 or 3]
    return group.startswith("8") or group in ("11", "18")
