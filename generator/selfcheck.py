"""A last check of each variant's worked solution as a reader sees it (annotations removed):
every calculation written in the text that was true in the original is true in the variant,
and a number of the question written where no slot rewrites it keeps its value.

Slots rewrite the numbers the reader bound; a number it did not bind stays as it was. When
that number stands for a quantity that changed ('1170 /3 = 234' where the pies now need
five oranges, '$2000x 30/100 = $1500' where $2000 became $5000), the written calculation
turns false although every annotation is right. Such a draw is refused, so the variants
that come out are those whose unbound numbers keep their meaning: values are never
guessed, the numbers involved keep their values or the problem is rejected.

A calculation is a run of numbers and operators with at least one '=' and one operator,
read with exact fractions: '12/20 x 100% = 60%', '2+2(16)=34', '$1,200 / 4 = $300'.
Text that does not read as one ('x+x+30=110', '1:30', '2/3 of them') is left alone.
"""

from __future__ import annotations

import re
from fractions import Fraction

from mathgen.numbers import parse_word_number

# the characters a written calculation is made of; a run starts at a digit, '$' or '('
_RUN = re.compile(r"(?:(?<![\w)])-(?=[\d$(])|[\d$(])[\d$.,%+\-*/×÷x=() \t]*")
_ANNOTATION = re.compile(r"<<[^<>]*>>")
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)(%?)|([-+*/×÷x=()]))")
_MIXED = re.compile(r"(?<![\d.])(\d+)[ \t]+(\d+)/(\d+)(?![\d.])")


def _display(solution: str) -> str:
    """The worked solution without its annotations and its final '#### N' line."""
    body = solution.rsplit("\n####", 1)[0]
    return _ANNOTATION.sub("", body)


def _runs(text: str) -> list[str]:
    """Candidate calculations: runs of calculation characters, cut where a comma is not a
    thousands separator (so '12, 3+4=7' is two runs)."""
    out = []
    for m in _RUN.finditer(text):
        for part in re.split(r",(?!\d{3}(?!\d))", m.group()):
            part = part.replace("$", "").replace(",", "").strip(" \t")
            part = part.rstrip("-+*/×÷x=( \t.")
            if "=" in part:
                out.append(part)
    return out


class _Parser:
    """Exact value of one side: + - over * / ×÷ x, parentheses, '2(16)', percents."""

    def __init__(self, text: str):
        text = _MIXED.sub(r"(\1+\2/\3)", text)
        self.tokens, pos = [], 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if text[pos:].strip():
                    raise ValueError(text[pos:])
                break
            number, percent, op = m.groups()
            if number is not None:
                value = Fraction(number)
                self.tokens.append(("n", value / 100 if percent else value))
            else:
                self.tokens.append(("o", op))
            pos = m.end()
        self.i = 0

    def _peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def _next(self):
        token = self._peek()
        self.i += 1
        return token

    def sides(self) -> tuple[list[Fraction], bool]:
        """The value of each side between '=' and whether any operator was used."""
        values, used = [], False
        while True:
            value, op = self._sum()
            values.append(value)
            used |= op
            kind, what = self._next()
            if kind is None:
                return values, used
            if what != "=":
                raise ValueError(what)

    def _sum(self):
        value, used = self._product()
        while self._peek() in (("o", "+"), ("o", "-")):
            sign = self._next()[1]
            right, _ = self._product()
            value, used = (value + right if sign == "+" else value - right), True
        return value, used

    def _product(self):
        value, used = self._atom()
        while True:
            kind, what = self._peek()
            if kind == "o" and what in "*/×÷x":
                self._next()
                right, _ = self._atom()
                value = value / right if what in "/÷" else value * right
                used = True
            elif kind == "n" or what == "(":  # '2(16)', ')(' multiply
                right, _ = self._atom()
                value, used = value * right, True
            else:
                return value, used

    def _atom(self):
        kind, what = self._next()
        if kind == "n":
            return what, False
        if what == "(":
            value, _ = self._sum()
            if self._next() != ("o", ")"):
                raise ValueError("unclosed")
            return value, True
        if what == "-":
            value, used = self._atom()
            return -value, used
        raise ValueError(str(what))


def truths(solution: str) -> list[bool | None]:
    """For each written calculation of the solution in order: whether it is true (None when
    the run does not read as a calculation)."""
    out = []
    for run in _runs(_display(solution)):
        try:
            values, used = _Parser(run).sides()
        except (ValueError, ZeroDivisionError, IndexError):
            out.append(None)
            continue
        out.append(all(v == values[0] for v in values) if used and len(values) > 1 else None)
    return out


class ProseCheck:
    """Whether a variant's written calculations keep the truth they had in the original."""

    def __init__(self, original: str):
        self.original = truths(original)
        self.needed = any(self.original)

    def keeps(self, variant: str) -> bool:
        if not self.needed:
            return True
        new = truths(variant)
        if len(new) != len(self.original):  # the text's calculations can no longer be matched
            return False
        return all(new_truth or not was for was, new_truth in zip(self.original, new))


# a number as written: '1,200', '2.5', and '1/2' as one number (its 2 is no quantity)
_DIGITS = re.compile(r"(?<![\d.,/])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+(?![\d.]))?")


def stale_values(symbolic) -> tuple[list, list]:
    """(index, value) of each number of the question, and of each result, whose value the
    solution writes where no slot rewrites it ('As 1Mb has 1000kb', 'from her 5th birthday',
    'added four into each stall' for a result of 4): which of them the text means cannot be
    told, so each keeps its value (a draw that changes one is refused). A result is checked
    against words only: digits left as written are constants far more often."""
    solution = symbolic.problem.solution
    body = solution.rsplit("\n####", 1)[0]
    covered = [(slot.start, slot.end) for slot in symbolic.slots]
    covered += [m.span() for m in _ANNOTATION.finditer(body)]
    written, words = set(), set()
    # 'the four quarters lasted': a number word the reader left as written is a quantity too
    for m in re.finditer(r"[A-Za-z]+(?:-[A-Za-z]+)?", body):
        value = parse_word_number(m.group())
        if value is None and "-" in m.group():  # 'an eight-hour day'
            value = parse_word_number(m.group().split("-")[0])
        if value is not None and not any(s < m.end() and m.start() < e for s, e in covered):
            words.add(Fraction(value))
    for m in _DIGITS.finditer(body):
        if not any(s < m.end() and m.start() < e for s, e in covered):
            try:
                written.add(Fraction(m.group().replace(",", "")))
            except ZeroDivisionError:  # '1/0' is no number
                continue
    written |= words
    return [(i, v.value) for i, v in enumerate(symbolic.variables) if v.value in written], \
        [(i, step.value) for i, step in enumerate(symbolic.steps) if step.value in words]
