"""Writing a variant: the question in its original wording and number style, and a GSM8K
worked solution whose every number (annotations, prose, '#### N') is recomputed exactly.
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction

from mathgen.numbers import Mention, format_like, plain, starts_with_vowel_sound

_ARTICLE = re.compile(r"\b([Aa]n?) $")
_PLAIN_STYLE = re.compile(r"[\d,]*(?:\.(\d*))?")


def splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply non-overlapping (start, end, replacement) edits; fixes 'a'/'an' before numbers."""
    out, pos = [], 0
    for start, end, new in sorted(edits):
        before = text[pos:start]
        # 'an ' at most: the search starts there (a boundary still sees the letter before)
        m = _ARTICLE.search(before, max(0, len(before) - 3))
        if m and new != text[start:end]:
            article = "an" if starts_with_vowel_sound(new) else "a"
            if m.group(1)[0].isupper():
                article = article.capitalize()
            before = before[:m.start(1)] + article + " "
        out.append(before)
        out.append(new)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def question(symbolic, values: list[Fraction]) -> tuple[str, list[tuple[str, str]]]:
    """The new question text, and (old, new) plain decimals for each changed mention."""
    edits, changed = [], []
    for var, value in zip(symbolic.variables, values):
        if value == var.value:
            continue
        for i in var.mentions:
            m = symbolic.mentions[i]
            edits.append((m.start, m.end, format_like(value, m)))
            changed.append((m.start, plain(var.value), plain(value)))
    return splice(symbolic.problem.question, edits), [(o, n) for _, o, n in sorted(changed)]


def solution(symbolic, slot_values: list[Fraction]) -> str:
    """The worked solution with every slot rewritten."""
    text = symbolic.problem.solution
    edits = []
    for slot, value in zip(symbolic.slots, slot_values):
        original = text[slot.start:slot.end]
        edits.append((slot.start, slot.end, _written(value, original, slot.style, slot.role)))
    return splice(text, edits)


_MIXED = re.compile(r"(\d+)[ \t]+(\d+)/(\d+)")


def _written(value: Fraction, original: str, style: Mention | None, role: str) -> str:
    mixed = _MIXED.fullmatch(original)
    if mixed and int(mixed.group(3)) and value == int(mixed.group(1)) + Fraction(
            int(mixed.group(2)), int(mixed.group(3))):
        return original  # '1 1/2' that keeps its value stays as written
    if role == "final":
        return format_like(value, commas=False, places=0)
    if role == "ordinal":  # '6th' -> '2nd': a result shown as a place (a whole number >= 1)
        n = int(value)
        suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"
    if style is not None:
        return format_like(value, style)
    commas, places = _plain_style(original)
    text = format_like(value, commas=commas, places=places)
    # only without constraints can a number be 10/3; in a calculation it needs parentheses
    return f"({text})" if "/" in text and role == "literal" else text


@functools.lru_cache(maxsize=4096)
def _plain_style(original: str) -> tuple[bool, int]:
    """Whether a number written plainly uses commas, and its decimal places."""
    m = _PLAIN_STYLE.fullmatch(original)
    return "," in original, len(m.group(1) or "") if m else 0


_DIGIT_ARTICLE = re.compile(r"\b([Aa]n?) (\$?\d[\d,]*(?:\.\d+)?)")
_CENTS = re.compile(r"([$€£](?:<<[^<>]*>>)?\d[\d,]*\.\d)(?!\d)")


def tidy(text: str) -> str:
    """What rendering with new values can spoil: 'a 8-hour shift' -> 'an 8-hour shift', and
    money with one decimal ('$24.5') gets its cents ('$24.50')."""
    return _digit_articles(_CENTS.sub(r"\g<1>0", text))


def _digit_articles(text: str) -> str:
    """'a 8-hour shift' -> 'an 8-hour shift', 'an 5' -> 'a 5'."""
    def fix(m):
        article = "an" if starts_with_vowel_sound(m.group(2)) else "a"
        if m.group(1)[0].isupper():
            article = article.capitalize()
        return f"{article} {m.group(2)}"
    return _DIGIT_ARTICLE.sub(fix, text)
