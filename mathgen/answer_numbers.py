"""What number an answer text is: one token grammar for reading and for finding the last number.

::

    read("$1,250.00")         # Reading(Fraction(1250), percent=False, why='')
    read("2\\sqrt{3}")        # Reading(None, False, 'a root, pi or infinity is not ...')
    last_token("p = 2/3").group()  # '2/3'

A token is one of: a number (``-`` or a dash used as minus, digits with ``,`` thousands groups
or with groups of exactly three digits after a space, no-break or thin space, a decimal part,
an exponent ``e5``/``E-3``), a ratio ``a/b``, a LaTeX fraction (``\\frac``, ``\\dfrac``,
``\\tfrac``, ``\\cfrac``, with braced or one-character arguments), an irrational mark (a root,
pi, infinity) or a hexadecimal, binary or octal literal. The last two are read so that they are
refused as a whole: ``0x1F`` is never 1 and ``2\\sqrt{3}`` is never 2.

Every pattern is linear: no nested unbounded repetition, braces nested at most twice, and the
last token is found by scanning growing windows from the end (see ``last_token``), so a 1 MB
text costs about as much as the distance from its end to its last number.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from mathgen.errors import MathgenError

MAX_DIGITS = 1000  # digits of a written number, and the largest |exponent|: beyond, no answer
MAX_CHARS = 10_000  # an answer text longer than this is not one number
MINUS = "-\u2212\u2012\u2013\u2010\u2011\ufe63\uff0d"  # hyphen-minus, minus sign, figure/en dash,
# hyphens, small and full-width hyphen-minus; an em dash is punctuation, not a minus
SEPARATORS = " \u00a0\u2009\u202f"  # space, no-break, thin and narrow no-break space
_TO_ASCII = str.maketrans({c: "-" for c in MINUS[1:]})

# braced argument: up to two levels of braces, each run of other characters bounded, so an
# argument is at most about 450 characters and a fraction about 900, under MARGIN below;
# possessive quantifiers (*+, ?+) never give back what they took: no backtracking to retry
_ARG = r"\{[^{}\n]{0,80}+(?:\{[^{}\n]{0,40}+\}[^{}\n]{0,80}+){0,3}+\}"
_ONE = r"[0-9A-Za-z]"
_SIGN = rf"(?:(?<![\w)\]}}])[{MINUS}])?+"
_START = r"(?<![0-9A-Za-z./])"  # not inside a word or a longer number: '1/2/3' has none
_DIGITS = r"(?:\d++(?:,\d++)*+(?:\.\d++)?+|\.\d++)"  # '1,250.5', '.5'; '1,2' is read, then refused
_SEP = "[" + SEPARATORS + "]"
_TOKEN = re.compile(
    rf"(?P<frac>{_SIGN}\\[dtc]?frac[ \t]?(?P<num>{_ARG}|{_ONE})[ \t]?(?P<den>{_ARG}|{_ONE}))"
    rf"|(?P<irr>\\sqrt[ \t]?(?:\[[^\]\n]{{0,20}}+\])?[ \t]?(?:{_ARG}|{_ONE})|[√∛∜π∞]"
    r"|\\(?:pi|infty)(?![A-Za-z]))"
    rf"|(?P<base>{_START}{_SIGN}0(?:[xX][0-9a-fA-F]{{1,64}}+|[bB][01]{{1,64}}+|[oO][0-7]{{1,64}}+)"
    r"(?![0-9A-Za-z]))"
    rf"|(?P<grouped>{_START}{_SIGN}\d{{1,3}}(?P<sep>{_SEP})\d{{3}}(?:(?P=sep)\d{{3}})*+"
    r"(?:\.\d++)?+(?![\d.,]\d|\d))"
    rf"|(?P<number>{_START}{_SIGN}{_DIGITS}(?:/[{MINUS}]?{_DIGITS}|[eE][+-]?\d++)?+"
    r"(?![.,/]\d|\d))")
_CANDIDATES = "0123456789\\√∛∜π∞"  # a token holds one of these
_GROUPS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_EXPONENT = re.compile(r"(.*?)[eE]([+-]?\d+)")
_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mbox|mathbf)[ \t]?\{([^{}]*)\}")
_CURRENCY = re.compile(r"\\?\$|€|£|¥|USD|dollars?|cents?", re.IGNORECASE)
_PERCENT = re.compile(r"\\?%|percent", re.IGNORECASE)
_WRAPPERS = re.compile(r"\\left|\\right|\\!|\\[()\[\]]|\\displaystyle")

WINDOW = 4096  # first window of the backward scan
MARGIN = 1024  # longer than any bounded token (fractions, roots): see last_token
TAIL = 4 ** 2 * WINDOW  # 64 Ki characters: the farthest back the last number is looked for


@dataclass(frozen=True)
class Reading:
    value: Fraction | None  # None: not one number
    percent: bool  # written with a percent sign (or 'percent')
    why: str  # why it is not a number; '' when it is


def read(answer) -> Reading:
    """The exact number an answer (text or number) is, or why it is not one.

    Raises MathgenError for an argument that is neither text, a number nor None.
    """
    if answer is None:
        return Reading(None, False, "no answer")
    if isinstance(answer, bool):
        raise MathgenError(f"an answer is text or a number, not the truth value {answer}")
    if isinstance(answer, numbers.Rational):
        return Reading(Fraction(answer.numerator, answer.denominator), False, "")
    if isinstance(answer, (numbers.Real, Decimal)):
        answer = str(answer)  # the shortest decimal that round-trips: 0.1 is 1/10
    if not isinstance(answer, str):
        raise MathgenError(f"an answer is text or a number, not {type(answer).__name__} "
                           f"(hint: pass the model's output text)")
    if len(answer) > MAX_CHARS:
        return Reading(None, False, f"longer than {MAX_CHARS:,} characters: not one answer")
    return _read_text(answer, depth=0)


def _read_text(s: str, depth: int) -> Reading:
    s = _TEXT.sub(r" \1 ", s)
    s = _WRAPPERS.sub("", s).replace("\\,", "\u2009")  # LaTeX thin space: a digit group
    percent = bool(_PERCENT.search(s))
    s = _PERCENT.sub(" ", s)
    s = _CURRENCY.sub(" ", s)
    tokens = list(_TOKEN.finditer(s))
    if any(t.lastgroup == "irr" for t in tokens):
        return Reading(None, percent, "a root, pi or infinity is not a rational number")
    if not tokens:
        return Reading(None, percent, "no number")
    if len(tokens) > 1:
        return Reading(None, percent, "more than one number")
    value, why = token_value(tokens[0], depth)
    return Reading(value, percent, why)


def token_value(token: re.Match, depth: int = 0) -> tuple[Fraction | None, str]:
    """The exact value of one token of the grammar, or (None, why)."""
    kind, text = token.lastgroup, token.group().translate(_TO_ASCII)
    if kind == "frac":
        if depth > 2:
            return None, "fractions nested too deep"
        parts = [_read_text(token.group(g).removeprefix("{").removesuffix("}"), depth + 1)
                 for g in ("num", "den")]
        for part in parts:
            if part.value is None:
                return None, f"a fraction whose part is not a number ({part.why})"
        if parts[1].value == 0:
            return None, "a fraction over zero"
        value = parts[0].value / parts[1].value
        return (-value if text.startswith("-") else value), ""
    if kind == "base":
        return None, f"{text[:20]!r} is a hexadecimal, binary or octal literal, not read"
    if kind == "irr":
        return None, "a root, pi or infinity is not a rational number"
    if "/" in text:
        top, bottom = text.split("/")
        a, why = _decimal(top)
        b, why_b = _decimal(bottom)
        if a is None or b is None:
            return None, why or why_b
        return (a / b, "") if b else (None, "a fraction over zero")
    if kind == "grouped":
        return _decimal(text.translate({ord(c): None for c in SEPARATORS}))
    return _decimal(text)


def _decimal(text: str) -> tuple[Fraction | None, str]:
    """'-1,250.5', '2.5e-3' -> exact value; refuses lists ('1,2') and over-long numbers."""
    exponent = 0
    m = _EXPONENT.fullmatch(text)
    if m:
        text, digits = m.group(1), m.group(2)
        if len(digits.lstrip("+-0")) > 4 or abs(int(digits)) > MAX_DIGITS:
            return None, f"an exponent beyond {MAX_DIGITS}: too large to be an answer"
        exponent = int(digits)
    body = text.lstrip("-")
    if "," in body:
        if not _GROUPS.fullmatch(body):
            return None, f"{text[:20]!r} is a list, not a number"
        text = text.replace(",", "")
    if sum(c.isdigit() for c in text) > MAX_DIGITS:
        return None, f"more than {MAX_DIGITS} digits: too long to be an answer"
    value = Fraction(text)
    return (value * Fraction(10) ** exponent if exponent else value), ""


def last_token(text: str) -> re.Match | None:
    """The last token of ``text``, as a scan of the whole text from its start would find it.

    Text after the last character a token can hold (a digit, a backslash, a root) is skipped
    in one step. Before it, a window grows fourfold until its last token starts at least
    MARGIN after a resync point: a place where no token of the full scan can be under way,
    except a bounded one (a fraction or root, shorter than MARGIN). A number is under way
    across a digit, ',', '.', '/', an exponent letter or sign, or a group separator followed
    by three digits; any other character ends it. The window stops growing at TAIL
    characters: a text whose last TAIL characters before that point hold no token that can
    be read safely has no last number (None), so the cost is bounded whatever the text.
    """
    last_char = max(text.rfind(c) for c in _CANDIDATES)  # rfind: a fast search backwards
    if last_char < 0:
        return None
    end = min(len(text), last_char + 1 + MARGIN)  # a token ends at most MARGIN after it
    size = WINDOW
    while True:
        start = max(0, end - size)
        if start:
            resync = _RESYNC.search(text, start, end)
            start = resync.end() if resync else end
        last = None
        for last in _TOKEN.finditer(text, start, end):
            pass
        if start == 0 or (last is not None and last.start() >= start + MARGIN):
            return last
        if size >= TAIL:
            return None
        size *= 4


_RESYNC = re.compile(rf"[^0-9,./eE+{MINUS}{SEPARATORS}\t]|[{SEPARATORS}\t](?!\d{{3}}(?!\d))")


def plain(x: Fraction) -> str:
    """The value as a short exact decimal, or its size when it is too long to print."""
    if max(abs(x.numerator), x.denominator).bit_length() > 3 * MAX_DIGITS:
        sign = "-" if x < 0 else ""
        return f"{sign}a number of about {round(abs(x.numerator).bit_length() * 0.30103)} " \
               f"digits over {round(x.denominator.bit_length() * 0.30103)} digits"
    from mathgen.numbers import plain as exact

    return exact(x)
