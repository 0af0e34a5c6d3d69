"""Worked steps from the formulas of SVAMP and ASDiv rows.

A SVAMP equation is one step. An ASDiv formula is read part by part ('expr=result',
'2:3=12:x', '17/5=3 r2'), solved when it declares unknowns ('x:The number; (1/3)*x-7=8'), or
continued when it lists a pattern ('5, 7, 10, 14, 19, 25'). A number an ASDiv formula works
out in the head from the question's ratio is written out, so it follows the new numbers.
Every step is a plain calculation; the caller annotates it.
"""

from __future__ import annotations

import re
from fractions import Fraction

from mathgen import algebra
from mathgen.errors import UnsupportedProblem
from mathgen.expressions import evaluate, evaluate_literals, parse, substitute
from mathgen.numbers import find_mentions, plain

_STEP = re.compile(r"^\s*(.+?)\s*=\s*(-?\d+(?:\.\d+)?)(?:\s*r\s*(\d+))?\s*$")
_UNIT = re.compile(r"\s*\([A-Za-z]+(?:/[A-Za-z]+)?\)|(?<=\d)\s*(?:cents?|dollars?)\b")
_N = r"(\d+(?:\.\d+)?)"
_RATIO_PART = re.compile(rf"^{_N}\s*:\s*{_N}\s*=\s*{_N}\s*:\s*{_N}$")
_UNKNOWN = re.compile(r"^\s*([A-Za-z])\s*:")
_LETTER = re.compile(r"(?<![A-Za-z])[A-Za-z](?![A-Za-z])")
# 'boys to girls is 8:5', not '10:30' or '1:59 p.m.'
_RATIO = re.compile(r"(?<![\d:.])(\d+)\s*:\s*(\d+)(?![\d:]|\s*(?:[ap]\.?m\b|o'?clock))", re.I)
_FORMULA_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")
_SEQUENCE = re.compile(r"^\s*\d+(?:\s*[,.]\s+\d+|\s*,\s*\d+){2,}\s*$")
_MAX_TERMS = 20


def join(body: str, question: str) -> str:
    body, question = body.strip(), question.strip()
    if not body or body[-1] in ".!?":
        return f"{body} {question}".strip()
    if body[-1] in ",;:":  # 'If this pattern continues, how many ...'
        return f"{body} {question[:1].lower()}{question[1:]}"
    return f"{body}, {question[:1].lower()}{question[1:]}"


def calc(expr: str) -> str:
    """A calculation with numbers written as people write them ('290.0' -> '290')."""
    expr = re.sub(r"\s+", "", re.sub(r"(\d+)\.0+\b", r"\1", expr)).replace("^", "**")
    while expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1]):
        expr = expr[1:-1]
    return expr


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def exact(expr: str) -> Fraction:
    try:
        tree, literals = parse(expr)
        return evaluate(substitute(tree, [("const", x.value) for x in literals]))
    except (UnsupportedProblem, ZeroDivisionError, ValueError, OverflowError, TypeError,
            SyntaxError, RecursionError, MemoryError) as err:
        raise UnsupportedProblem("unsupported-formula", f"{expr}: {err}") from None


def _numbers(text: str) -> list[Fraction]:
    try:
        return [m.value for m in find_mentions(text)]
    except ValueError:  # more digits than Python reads
        raise UnsupportedProblem("unsupported-formula", "a number of the text is too long "
                                 "to read") from None


def asdiv_steps(body: str, question: str, formula: str, answer: Fraction,
                kind: str = "") -> list[str]:
    """The calculations of an ASDiv formula, in order (the last one gives the answer)."""
    steps = algebra_steps(formula, answer) or sequence_steps(body, formula, answer)
    if steps:
        return steps
    explain = proportions(join(body, question))
    parts = formula.split(";")
    results: set[Fraction] = set()
    for k, part in enumerate(parts):
        part = _UNIT.sub("", part).strip()
        ratio = _RATIO_PART.match(part)
        if ratio:  # 2:3=12:x -> x = 12*3/2
            a, b, c, d = ratio.groups()
            a, b = explain(a, results, term=True), explain(b, results, term=True)
            if Fraction(d) == answer:
                steps.append(f"{c}*{b}/{a}")
            elif Fraction(c) == answer:
                steps.append(f"{d}*{a}/{b}")
            else:
                raise UnsupportedProblem("unsupported-formula", f"cannot read {part!r}")
            continue
        m = _STEP.match(part)
        if not m:
            raise UnsupportedProblem("unsupported-formula", f"cannot read {part!r}")
        lhs = _FORMULA_NUMBER.sub(lambda x: explain(x.group(), results), m.group(1))
        results.add(Fraction(m.group(2)))
        expr = re.sub(r"\b(GCD|LCM)\b", lambda f: f.group().lower(), calc(lhs))
        expr = expr.replace("[", "(").replace("]", ")")
        if m.group(3) is not None and int(m.group(3)) != 0:  # 17/5=3 r2
            num, _, den = expr.rpartition("/")
            if not num or not re.fullmatch(r"[\d.]+", den):
                raise UnsupportedProblem("unsupported-formula", f"cannot read {part!r}")
            quotient, remainder = Fraction(m.group(2)), Fraction(m.group(3))
            if k < len(parts) - 1:  # later parts may use either
                steps += [f"{num}//{den}", f"{num}%{den}"]
            elif quotient + 1 == answer and kind != "Surplus":  # 3 full buses and one more
                steps.append(f"ceil({num}/{den})")
            elif remainder == answer and (quotient != answer or kind == "Surplus"):
                steps.append(f"{num}%{den}")  # what is left over
            else:
                steps.append(f"{num}//{den}")
        else:
            steps.append(expr)
    return steps


def proportions(text: str):
    """``explain(number, results, term=False)``: a formula number written out when the
    question's ratio is how it was worked out in the head.

    'The ratio of boys to girls is 8:5. There are 30 girls.' with '48-30=18' reads the 48 as
    30*8/5; in '7:8=42:48' after 'a ratio of 7:1' the ratio ``term`` 8 is 7+1 (the parts
    together). Outside a ratio term, a number of the question, an earlier result or a
    constant the text licenses (60 minutes) stays as written; so does a number that no
    reading, or more than one, explains.
    """
    pairs = [(Fraction(a), Fraction(b)) for a, b in _RATIO.findall(text)] \
        if re.search(r"\bratio", text, re.IGNORECASE) else []
    if not pairs:
        return lambda number, results, term=False: number
    from mathgen.generator.units import licensed_constants

    numbers = _numbers(text)
    known = set(numbers) | set(licensed_constants(text))

    def readings(value: Fraction, term: bool) -> set[str]:
        out = set()
        for p, q in pairs:
            parts = {p: plain(p), q: plain(q), p + q: f"({plain(p)}+{plain(q)})"}
            if p != q:
                parts.setdefault(abs(p - q), f"({plain(max(p, q))}-{plain(min(p, q))})")
            if value in (p, q):
                return set()
            if value in parts:
                out.add(parts[value])
            for x in [] if term else numbers:
                if x in (p, q):
                    continue
                for r, r_text in parts.items():
                    for d, d_text in parts.items():
                        if r != d and d and x * r / d == value:
                            out.add(f"({plain(x)}*{r_text}/{d_text})")
        return out

    def explain(number: str, results: set, term: bool = False) -> str:
        value = Fraction(number)
        if not term and (value in known or value in results):
            return number
        found = readings(value, term)
        return found.pop() if len(found) == 1 else number

    return explain


def sequence_steps(body: str, formula: str, answer: Fraction) -> list[str]:
    """'5, 7, 10, 14, 19, 25' (a pattern to continue) -> steps that find the rule from the
    numbers of the body and apply it term by term: each later term of the body is then a
    result, so a variant keeps the pattern. [] when the formula is not such a list.

    The rule is the simplest that the body's numbers follow: a constant difference, a
    constant whole ratio, or differences that grow (or shrink) by a constant (four terms at
    least). The formula's terms must be among the body's, in order. A last step (the first
    difference or ratio) keeps the pattern's direction; it comes last so that no number
    of the solution can be read as it.
    """
    if not _SEQUENCE.match(formula):
        return []
    terms = _numbers(body)
    listed = [Fraction(t) for t in re.findall(r"\d+", formula)][:-1]
    rest = iter(terms)
    if not all(t in rest for t in listed):
        raise UnsupportedProblem("unsupported-formula", f"the terms of {formula!r} are not "
                                 "the numbers of the text")
    if len(terms) > _MAX_TERMS:
        raise UnsupportedProblem("unsupported-formula", f"a pattern of {len(terms)} numbers")
    text = [plain(t) for t in terms]
    diffs = [b - a for a, b in zip(terms, terms[1:])]
    steps: list[str] = []
    if len(terms) >= 3 and len(set(diffs)) == 1:  # 8, 16, 24: 24 + 16 - 8
        steps += [f"{text[k - 1]}+{text[1]}-{text[0]}" for k in range(2, len(terms) + 1)]
        steps.append(f"{text[1]}-{text[0]}")
    elif len(terms) >= 3 and all(terms) and len({b / a for a, b in zip(terms, terms[1:])}) == 1 \
            and (terms[1] / terms[0]).denominator == 1:  # 2, 6, 18: 18 * 6 / 2
        steps += [f"{text[k - 1]}*{text[1]}/{text[0]}" for k in range(2, len(terms) + 1)]
        steps.append(f"{text[1]}/{text[0]}")
    elif len(terms) >= 4 and len({b - a for a, b in zip(diffs, diffs[1:])}) == 1:
        # 5, 7, 10, 14: the differences grow by 10 - 7 - (7 - 5) = 1, so 14 is 10 + 10 - 7 + 1
        # and 19 is 14 + 10 - 7 + 1 + 1 (each later term written once, as a result)
        grow = diffs[1] - diffs[0]
        t0, t1, t2 = text[:3]
        sign = "+" if grow > 0 else "-"
        steps.append(f"{t2}-{t1}-({t1}-{t0})" if grow > 0 else f"{t1}-{t0}-({t2}-{t1})")
        steps += [f"{text[k - 1]}+{t2}-{t1}" + f"{sign}{plain(abs(grow))}" * (k - 2)
                  for k in range(3, len(terms) + 1)]
        steps.append(f"{t1}-{t0}")
    else:
        raise UnsupportedProblem("unsupported-formula", f"the numbers of the body follow no "
                                 f"constant difference, ratio or growing difference: {formula!r}")
    if exact(steps[-2]) != answer:
        raise UnsupportedProblem("label-mismatch", f"the pattern of the body gives "
                                 f"{plain(exact(steps[-2]))}, the label is {plain(answer)}")
    if exact(steps[-1]) == answer:  # the answer could be read as the check
        raise UnsupportedProblem("unsupported-formula", f"the first step of {formula!r} equals "
                                 "the answer")
    return steps


def algebra_steps(formula: str, answer: Fraction) -> list[str]:
    """'x:The number; (1/3)*x-7=8' -> ['(8 + 7) / (1 / 3)']; [] when the formula has no unknown.

    The unknowns are the declared letters ('x:...'), or the single letters of an equation
    ('11H=132'). With two unknowns the answer is one of them, or their ratio ('7/9').
    """
    parts = [_UNIT.sub("", p).strip() for p in formula.split(";")]
    unknowns = [m.group(1) for p in parts for m in [_UNKNOWN.match(p)] if m]
    equations = [p for p in parts if not _UNKNOWN.match(p)]
    if not unknowns:
        if len(equations) != 1 or "=" not in equations[0]:
            return []
        # the r of '47/6=7 r5' is a remainder, not an unknown
        unknowns = sorted(set(_LETTER.findall(re.sub(r"\br\s*\d+\s*$", "", equations[0]))))
        if not unknowns:
            return []
    eqs = [algebra.equation(p, unknowns) for p in equations]
    solved = algebra.solve(eqs, unknowns)
    texts = [x.text for eq in eqs for x in eq.literals]
    values = [x.value for eq in eqs for x in eq.literals]
    found = {u: evaluate_literals(t, values) for u, t in solved.items()}
    options = [solved[u] for u in unknowns if found[u] == answer]
    if not options and len(unknowns) == 2:
        x, y = unknowns
        options = [("div", solved[a], solved[b]) for a, b in ((x, y), (y, x))
                   if found[b] and found[a] / found[b] == answer]
    if not options:
        raise UnsupportedProblem("label-mismatch", f"{formula!r} does not give {plain(answer)}")
    return [algebra.to_text(options[0], texts)]
