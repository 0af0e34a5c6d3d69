"""Calculations written in a worked solution: ``<<a*b=c>>`` annotations and plain-text ones.

``read(solution, end, annotations)`` gives one Calculation per step, in text order:
"16 - 3 - 4 = <<16-3-4=9>>9" is an annotation; "she needs 60/15 = 4 containers" is a prose
calculation, kept only when it is exactly true; "65+94+81 = <<240=240>>" restates a prose
calculation inside an annotation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction

from mathgen import expressions
from mathgen.errors import UnsupportedProblem
from mathgen.numbers import Mention, find_mentions, parse_decimal


@dataclass(frozen=True)
class Calculation:
    """A calculation written in the solution: an annotation or a plain 'a + b = c'."""

    start: int
    end: int
    text: str
    tree: tuple
    literals: tuple
    spans: tuple  # of each literal, in solution coordinates
    value: Fraction
    result_span: tuple[int, int] | None  # None: an equation's solution is not written here
    result_style: Mention | None  # how a prose result is written ($, commas)
    restatements: tuple = ()  # spans that repeat the result: the 240 of <<240=240>>
    unknown: str | None = None  # the x an equation solves for
    of: Calculation | None = None  # a hidden step over the numbers of this equation
    over: Calculation | None = None  # an expression in the unknown this equation solves


_NUM = r"\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?|\$?\.\d+%?"
_WORD_OPS = r"\b(?:plus|minus|times|multiplied by|divided by)\b"
# a unit written against its number: '9km/3hrs = 3km/hr'
_GLUED_UNIT = r"(?:km|m|cm|mm|kg|g|lb|lbs|oz|ft|in|mi|hrs?|h|min|mins|sec|s|mph|ml|l|L)\b"
_GAP = (rf"(?:(?<=\d){_GLUED_UNIT})?(?:/[A-Za-z]+)?"
        r"(?:\s+(?!(?:x|plus|minus|times|multiplied|divided|equals)\b)[A-Za-z][A-Za-z'/-]*){0,9}")
# '270 X 7': a capital X between two numbers multiplies as well
_OP = rf"\s*(?:[-+*/\u00d7\u00f7\u2013\u2212]|\bx\b|(?<=[\d)] )X(?= [\d(])|{_WORD_OPS})\s*"
_EQ = r"\s*(?:=|\bequals\b|\bfor(?: a total of)?\b)\s*"
# '1 1/2': a mixed number is one number of a calculation
_MIXED = r"\d+[ \t]+\d+/\d+(?![\d/])"
_TERM = rf"(?:\(\s*)*(?:{_MIXED}|{_NUM})(?:\s*\))*"
# '2(60)', '(1/2) 278', '9000(.30)': a bracket next to a number multiplies
_JOIN = rf"(?:{_OP}|(?<=\))\s*(?=[(\d.$])|(?<=\d)\s?(?=\(\s*[\d.$]))"
_PROSE_EQUATION = re.compile(
    rf"(?<![\w.,$])(?:{_TERM}){_GAP}(?:{_JOIN}(?:{_TERM}){_GAP})+{_EQ}(?:{_NUM})"
    rf"(?!(?!{_GLUED_UNIT})\w|,\d|\.\d)")
_NUM_TOKEN = re.compile(_NUM)
_OP_TOKEN = re.compile(rf"[-+*/\u00d7\u00f7\u2013\u2212]|\bx\b|(?<=[\d)] )X(?= [\d(])|{_WORD_OPS}")
_OP_NORMAL = {"x": "*", "X": "*", "\u00d7": "*", "\u00f7": "/", "\u2013": "-", "\u2212": "-", "plus": "+",
              "minus": "-", "times": "*", "multiplied by": "*", "divided by": "/"}
# what follows '5+2(3) =' in '5+2(3) = 5+6 = 11': expressions worked out, then the result
_CHAIN = re.compile(rf"(?:(?:{_TERM})(?:{_JOIN}(?:{_TERM}))+{_EQ})+(?:{_NUM})(?!\w|,\d|\.\d)")
_PROSE_LHS = re.compile(rf"((?:{_TERM}){_GAP}(?:{_JOIN}(?:{_TERM}){_GAP})+){_EQ}\$?\s*\Z")


def read(solution: str, body_end: int, annotations) -> list[Calculation]:
    out = []
    seg_start = 0
    for ann in annotations:
        tree, literals = expressions.parse(ann.group(1))
        try:
            written = parse_decimal(ann.group(2))
        except ValueError:
            raise UnsupportedProblem("unsupported-expression",
                                     f"step result {ann.group(2)!r} is not a number")
        restated = None
        if tree == ("lit", 0):  # "65+94+81 = <<240=240>>": the calculation is in the prose
            lhs = _PROSE_LHS.search(solution, seg_start, ann.start())
            restated = lhs and _calculation(solution, lhs.start(), lhs.group(1))
        if restated and restated[3] == written:
            expr_text, tree, literals, _, spans = restated
            out.append(Calculation(lhs.start(), ann.end(), expr_text, tree, literals, spans, written,
                               ann.span(2), None, (ann.span(1),)))
        else:
            exact = _value(tree, literals)
            if exact is None:
                raise UnsupportedProblem("unsupported-expression",
                                         f"{ann.group(1)} cannot be computed exactly")
            if exact != written:
                raise UnsupportedProblem("inexact-annotation",
                                         f"{ann.group(1)} is {exact}, not {ann.group(2)}")
            spans = tuple((ann.start(1) + x.start, ann.start(1) + x.end) for x in literals)
            out.append(Calculation(ann.start(), ann.end(), ann.group(1), tree, tuple(literals), spans,
                               written, ann.span(2), None))
        seg_start = ann.end()
    cuts = [0] + [p for a in annotations for p in a.span()] + [body_end]
    for seg_start, seg_end in zip(cuts[::2], cuts[1::2]):
        pos = seg_start
        while m := _PROSE_EQUATION.search(solution, pos, seg_end):
            pos = m.end()
            lhs = m.group()[:list(re.finditer(_EQ, m.group()))[-1].start()]
            calc = _calculation(solution, m.start(), lhs)
            if calc is None:
                continue
            result = list(_NUM_TOKEN.finditer(solution, m.start() + len(lhs) + 1, m.end()))[-1]
            chain = _CHAIN.match(solution, result.start(), seg_end)
            if chain:  # '5+2(3) = 5+6 = 11': worked out on the way
                last = list(_NUM_TOKEN.finditer(solution, result.start(), chain.end()))[-1]
                main = _prose_result(solution, m.start(), chain.end(), calc, last)
                worked = main and _worked(solution, main, chain)
                if worked is not None:
                    out += [main] + worked
                    pos = main.end
                    continue
            main = _prose_result(solution, m.start(), m.end(), calc, result)
            if main:  # not an approximate or mistaken calculation, which stays prose
                out.append(main)
    from .equations import read as read_equations

    taken = {span for src in out for span in src.spans}
    results = {src.result_span for src in out}
    out += read_equations(solution[:body_end], taken, results)
    return sorted(out, key=lambda src: src.start)


def _prose_result(solution, start, end, calc, result) -> Calculation | None:
    core = re.search(r"[\d.][\d,.]*", result.group())
    try:
        written = parse_decimal(core.group())
    except ValueError:
        return None
    text, tree, literals, value, spans = calc
    if value != written and result.group().endswith("%") \
            and all(solution.startswith("%", span[1]) for span in spans):
        # '20% * 40% = 8%': percents of percents, each a part of 100
        hundred = ("const", Fraction(100))
        tree = ("mul", expressions.substitute(tree, [("div", ("lit", k), hundred)
                                                     for k in range(len(literals))]), hundred)
        value = _value(tree, literals)
    percents = [k for k, span in enumerate(spans) if solution.startswith("%", span[1])]
    if value != written and percents and not result.group().endswith("%"):
        # '20 minnows / 40% = 50 minnows': a percent read as the part of 100 it is
        hundred = ("const", Fraction(100))
        tree = expressions.substitute(tree, [("div", ("lit", k), hundred) if k in percents
                                             else ("lit", k) for k in range(len(literals))])
        value = _value(tree, literals)
    if value != written:
        return None
    r_start = result.start() + core.start()
    r_span = (r_start, r_start + len(core.group()))
    style = find_mentions(solution[r_span[0]:r_span[1]])
    return Calculation(start, end, text, tree, literals, spans, written, r_span,
                       style[0] if style else None)


def _worked(solution: str, main: Calculation, chain) -> list[Calculation] | None:
    """The numbers of the expressions between a calculation and its result ('5+6' of
    '5+2(3) = 5+6 = 11'), each a hidden step: the one part of the calculation with its
    value. None when an expression is not the result, or a number is no single part."""
    out, start = [], chain.start()
    for eq in re.finditer(_EQ, chain.group()):
        calc = _calculation(solution, start, solution[start:chain.start() + eq.start()])
        start = chain.start() + eq.end()
        if calc is None or calc[3] != main.value:
            return None
        for lit, span in zip(calc[2], calc[4]):
            found = expressions.parts_valued(main.tree, [x.value for x in main.literals],
                                             lit.value)
            if len(found) != 1:
                return None
            tree = found.pop()
            style = find_mentions(solution[span[0]:span[1]])
            out.append(Calculation(main.start, main.end, main.text, tree, main.literals,
                                   main.spans, lit.value, span, style[0] if style else None,
                                   of=main))
    return out


def _value(tree, literals) -> Fraction | None:
    try:
        return expressions.evaluate_literals(tree, [x.value for x in literals])
    except (ZeroDivisionError, ValueError, OverflowError):
        return None


def _calculation(solution: str, start: int, lhs: str):
    """Parse 'A op B op C' written in prose at ``start``: (text, tree, literals, value, spans)."""
    parts, spans, mixed, shown = [], [], {}, {}
    lhs = re.sub(r"/[A-Za-z]+", lambda m: " " * len(m.group()), lhs)  # '$600/month': a unit
    for tok in re.finditer(rf"{_MIXED}|{_NUM}|{_OP_TOKEN.pattern}|[()]", lhs):
        text = tok.group()
        operand_next = text == "(" or _NUM_TOKEN.fullmatch(text) or re.fullmatch(_MIXED, text)
        if operand_next and parts and (parts[-1] == ")" or parts[-1][-1].isdigit()):
            parts.append("*")  # '2(60)': multiplication written by a bracket
        if re.fullmatch(_MIXED, text):  # read as one number: its value is set after parsing
            whole, part = text.split()
            top, bottom = part.split("/")
            if int(bottom) == 0:
                return None
            mixed[len(spans)] = int(whole) + Fraction(int(top), int(bottom))
            spans.append((start + tok.start(), start + tok.end()))
            parts.append("1")
            shown[len(parts) - 1] = f"{whole} {part}"
        elif _NUM_TOKEN.fullmatch(text):
            core = re.search(r"[\d.][\d,.]*", text)
            spans.append((start + tok.start() + core.start(), start + tok.start() + core.end()))
            parts.append(core.group().replace(",", ""))
        else:
            parts.append(_OP_NORMAL.get(text, text))
    expr_text = " ".join(parts)
    try:
        tree, literals = expressions.parse(expr_text)
    except UnsupportedProblem:
        return None
    if len(literals) != len(spans):
        return None
    literals = [replace(lit, text=solution[spans[k][0]:spans[k][1]], value=mixed[k])
                if k in mixed else lit for k, lit in enumerate(literals)]
    expr_text = " ".join(shown.get(i, part) for i, part in enumerate(parts))
    return expr_text, tree, tuple(literals), _value(tree, literals), tuple(spans)

