"""Answers in model text: where the final answer is, what number it is, whether it is right.

::

    extract("... so she makes $\\boxed{18}$ dollars.")   # Extraction('18', 'boxed')
    grade("$1,250.00", "1250")                            # Verdict(correct=True, ...)
    grade("20%", "0.2")                                   # correct: a percent form

Extraction looks, in order, for the last ``\\boxed{...}``, the last "the answer is X", the last
``#### X`` line, the last number of the last ```` ```output ```` block, and the last number of
the text; the method found is kept with the answer. Grading compares exact rationals after
removing thousands separators, currency signs, units and LaTeX wrappers (``\\frac{a}{b}``,
``\\text{}``); a prediction written as a percent also matches its value divided by 100, and
``rel_tol`` allows a relative difference. Every verdict says why.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from mathgen.errors import MathgenError

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_ANSWER_IS = re.compile(r"answer\s+is\s*:?\s*(.+?)(?:\.(?:\s|$)|\n|$)", re.IGNORECASE)
# [ \t], not \s: \s* ran on over all the blank lines below at every line start (quadratic)
_HASHES = re.compile(r"^[ \t]*####[ \t]*(.+?)[ \t\r]*$", re.MULTILINE)
_OUTPUT = re.compile(r"```output\s*\n(.*?)(?:```|$)", re.DOTALL)
_OPERAND = r"\(?\s*(-?(?:\d[\d,]*(?:\.\d+)?|\.\d+))\s*\)?"
_RATIO = re.compile(_OPERAND + r"\s*/\s*" + _OPERAND)
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}")
_CURRENCY = re.compile(r"\\?\$|€|£|¥|USD|dollars?|cents?", re.IGNORECASE)


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


_BOX = re.compile(r"\\boxed\s*\{")


def _boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` whose braces close.

    One pass pairs every brace (a stack), so thousands of unclosed boxes stay linear.
    """
    if "\\boxed" not in text:
        return None
    closing, stack = {}, []
    for m in re.finditer(r"[{}]", text):
        if m.group() == "{":
            stack.append(m.start())
        elif stack:
            closing[stack.pop()] = m.start()
    for m in reversed(list(_BOX.finditer(text))):
        brace = m.end() - 1
        if brace in closing:
            return text[brace + 1:closing[brace]]
    return None


def extract(text: str) -> Extraction:
    """Where a model's final answer is, and the answer as written."""
    if not isinstance(text, str) or not text.strip():
        return Extraction(None, "none")
    boxed = _boxed(text)
    if boxed is not None and boxed.strip():
        return Extraction(boxed.strip(), "boxed")
    said = _ANSWER_IS.findall(text)
    if said and _NUMBER.search(said[-1]):
        return Extraction(said[-1].strip(), "answer-is")
    hashes = _HASHES.findall(text)
    if hashes:
        return Extraction(hashes[-1], "hashes")
    outputs = _OUTPUT.findall(text)
    if outputs:
        numbers = _NUMBER.findall(outputs[-1])
        if numbers:
            return Extraction(numbers[-1], "output")
    numbers = _NUMBER.findall(text)
    if numbers:
        return Extraction(numbers[-1], "last-number")
    return Extraction(None, "none")


def number(text) -> tuple[Fraction | None, bool]:
    """The exact number an answer is, and whether it was written as a percent."""
    if text is None:
        return None, False
    if isinstance(text, (int, Fraction)):
        return Fraction(text), False
    s = str(text)
    s = _TEXT.sub(r" \1 ", s)
    s = _FRAC.sub(r"(\1)/(\2)", s)
    percent = bool(re.search(r"\\?%|percent", s))
    s = s.replace("\\%", "").replace("%", "").replace("\\!", "").replace("\\,", "")
    s = s.replace("{", "").replace("}", "").replace("\\left", "").replace("\\right", "")
    s = _CURRENCY.sub(" ", s)
    s = s.strip().rstrip(".").strip()
    m = "/" in s and _RATIO.fullmatch(s)
    if m:
        if len(s) > 4000:  # Python refuses longer digit strings; no answer is that long
            return None, percent
        try:
            return Fraction(m.group(1).replace(",", "")) / Fraction(m.group(2).replace(",", "")), \
                percent
        except (ValueError, ZeroDivisionError):
            return None, percent
    numbers = _NUMBER.findall(s)
    if len(numbers) != 1:
        # '18 dollars a day' holds one number; '3 and 4' cannot be graded as one
        numbers = [n for n in numbers if n.strip("-,.")]
        if len(numbers) != 1:
            return None, percent
    token = numbers[0]
    if len(token) > 4000:  # Python refuses longer digit strings; no answer is that long
        return None, percent
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", token) or "," not in token:
        return Fraction(token.replace(",", "")), percent
    return None, percent  # '1,2' is a list, not a number


def grade(predicted, gold, rel_tol: float = 0.0) -> Verdict:
    """Whether a predicted answer (text or number) equals the gold one, and why."""
    if isinstance(rel_tol, bool) or not isinstance(rel_tol, (int, float, Fraction)) \
            or not math.isfinite(rel_tol) or rel_tol < 0:
        raise MathgenError(f"rel_tol {rel_tol!r}: give a finite number >= 0, such as 0.01")
    pred, percent = number(predicted)
    want, _ = number(gold)
    if want is None:
        return Verdict(False, pred, None, f"the gold answer {gold!r} is not a number")
    if pred is None:
        return Verdict(False, None, want, "no number found in the prediction"
                       if predicted is None else f"{str(predicted)[:40]!r} is not one number")
    candidates = [pred] + ([pred / 100] if percent else [])
    for value in candidates:
        if value == want:
            return Verdict(True, value, want, "equal" if value is pred else "equal as a percent")
        if rel_tol and abs(value - want) <= Fraction(rel_tol) * abs(want):
            return Verdict(True, value, want, f"within a relative {rel_tol}")
    return Verdict(False, pred, want, f"{_plain(pred)} != {_plain(want)}")


def _plain(x: Fraction) -> str:
    from mathgen.numbers import plain

    return plain(x)
