"""Answers in model text: where the final answer is, what number it is, whether it is right.

::

    extract("... so she makes $\\boxed{18}$ dollars.")   # Extraction('18', 'boxed')
    grade("$1,250.00", "1250")                            # Verdict(correct=True, ...)
    grade("20%", "0.2")                                   # correct: a percent form

Extraction takes the last explicit final-answer statement: a ``\\boxed{...}`` whose braces
close, "the (final) answer is X" holding a number, or a ``#### X`` line, whichever starts last
in the text (so "The final answer is 10,455" after a boxed intermediate wins, and "the answer
is $\\boxed{18}$" is the box). Without one, it takes the last number of the last
```` ```output ```` block, then the last number of the text. What a number is, is
``mathgen.answer_numbers``: ``1e5``, ``−5``, ``1 000``, ``2/3`` and ``\\frac{10}{9}`` are one
number each; ``0x1F`` and an expression with a root or pi are refused. Grading compares exact
rationals after removing thousands separators, currency signs, units and LaTeX wrappers; a
prediction written as a percent also matches its value divided by 100, and ``rel_tol`` allows
a relative difference. Every verdict says why. Time is linear in the text on any input.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from mathgen.answer_numbers import _TOKEN, last_token, plain, read
from mathgen.errors import MathgenError

# The last statement of each kind is found by searching the text reversed (reversed
# patterns: 'si rewsna' is 'answer is'), a fast literal search, then read forwards from there
_REVERSED_ANSWER_IS = re.compile(r"si\s+rewsna")  # on the lowered text
_ANSWER_IS = re.compile(r"answer\s+is\s*:?\s*(.+?)(?:\.(?:\s|$)|\n|$)", re.IGNORECASE)
_REVERSED_HASHES = re.compile(r"####[ \t]*(?=\n|\Z)")  # '####' at a line start
_HASHES = re.compile(r"[ \t]*####([^\n]*)")
_REVERSED_OUTPUT = re.compile(r"\n\r?[ \t]*tuptuo```")
_OUTPUT = re.compile(r"```output[ \t]*\r?\n(?s:(.*?))(?:```|$)")
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
BOX_TRIES = 64
_BOX = re.compile(r"\\boxed[ \t]*\{")
# a box's content: up to three levels of braces, each level a run with one way to match
_BRACED = re.compile(r"\{((?:[^{}]|\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\})*)\}")


@dataclass(frozen=True)
class Extraction:
    text: str | None  # the answer as written, None when nothing was found
    method: str  # boxed | answer-is | hashes | output | last-number | none


@dataclass(frozen=True)
class Verdict:
    correct: bool
    predicted: Fraction | None
    gold: Fraction | None
    reason: str


def _boxed(text: str) -> tuple[int, str] | None:
    """(start, content) of the last ``\\boxed{...}`` whose braces close.

    Boxes are tried from the last one back; a box left open also leaves open every box
    before it that would close after it, so each try only reads up to the box after it:
    every character is read about once. A box nested deeper than four levels counts as open,
    and after BOX_TRIES boxes that do not close the text has no box (a refusal, not a guess).
    """
    limit = len(text)
    for _ in range(BOX_TRIES):
        at = text.rfind("\\boxed", 0, limit)
        if at < 0:
            return None
        box = _BOX.match(text, at)
        if box:
            content = _BRACED.match(text, box.end() - 1, limit)
            if content and content.group(1).strip():
                return at, content.group(1).strip()
        limit = at
    return None


def _last(reversed_pattern: re.Pattern, forward: re.Pattern, text: str, backwards: str):
    """The last match of ``forward`` that starts where ``reversed_pattern`` ends in
    ``backwards`` (``text`` reversed, lowered or not)."""
    n, at = len(text), 0
    while True:
        m = reversed_pattern.search(backwards, at)
        if m is None:
            return None
        found = forward.match(text, n - m.end())
        if found:
            return found
        at = m.start() + 1  # nothing read there (the text ends): the one before


def _statements(text: str) -> list[tuple[int, str, str]]:
    """(start, what it says, method) of the last box, 'answer is' and '####' line."""
    found = []
    box = _boxed(text) if "\\boxed" in text else None
    if box:
        found.append(box + ("boxed",))
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters lower to two characters: keep positions
        lowered = text.translate(_ASCII_LOWER)
    if "answer" in lowered:
        said = _last(_REVERSED_ANSWER_IS, _ANSWER_IS, text, lowered[::-1])
        # 'the answer is clear' holds no number: it states nothing
        if said and said.group(1).strip() and _TOKEN.search(said.group(1)):
            found.append((said.start(), said.group(1).strip(), "answer-is"))
    if "####" in text:
        said = _last(_REVERSED_HASHES, _HASHES, text, text[::-1])
        if said and said.group(1).strip():
            found.append((said.start(), said.group(1).strip(), "hashes"))
    return found


def extract(text) -> Extraction:
    """Where a model's final answer is, and the answer as written."""
    if text is None:
        return Extraction(None, "none")
    if not isinstance(text, str):
        raise MathgenError(f"extract() reads model output text, not {type(text).__name__}")
    if not text or text.isspace():
        return Extraction(None, "none")
    found = _statements(text)
    if found:
        _, said, method = max(found, key=lambda f: f[0])
        return Extraction(said, method)
    output = _last(_REVERSED_OUTPUT, _OUTPUT, text, text[::-1]) \
        if "```output" in text else None
    if output:
        number = last_token(output.group(1))
        if number:
            return Extraction(number.group(), "output")
    number = last_token(text)
    if number:
        return Extraction(number.group(), "last-number")
    return Extraction(None, "none")


def number(text) -> tuple[Fraction | None, bool]:
    """The exact number an answer is, and whether it was written as a percent."""
    reading = read(text)
    return reading.value, reading.percent


def grade(predicted, gold, rel_tol: float = 0.0) -> Verdict:
    """Whether a predicted answer (text or number) equals the gold one, and why.

    Raises MathgenError for a ``rel_tol`` that is not a finite number >= 0, and for an
    answer that is neither text, a number nor None; any text grades without an exception.
    """
    if isinstance(rel_tol, bool) or not isinstance(rel_tol, (int, float, Fraction)) \
            or not math.isfinite(rel_tol) or rel_tol < 0:
        raise MathgenError(f"rel_tol {rel_tol!r}: give a finite number >= 0, such as 0.01")
    pred, want = read(predicted), read(gold)
    if want.value is None:
        return Verdict(False, pred.value, None,
                       f"the gold answer {str(gold)[:40]!r} is not a number ({want.why})")
    if pred.value is None:
        return Verdict(False, None, want.value, "no number found in the prediction"
                       if predicted is None else
                       f"{str(predicted)[:40]!r} is not one number ({pred.why})")
    value, target = pred.value, want.value
    candidates = [value] + ([value / 100] if pred.percent else [])
    for candidate in candidates:
        if candidate == target:
            return Verdict(True, candidate, target,
                           "equal" if candidate is value else "equal as a percent")
        if rel_tol and abs(candidate - target) <= Fraction(rel_tol) * abs(target):
            return Verdict(True, candidate, target, f"within a relative {rel_tol}")
    return Verdict(False, value, target, f"{plain(value)} != {plain(target)}")
