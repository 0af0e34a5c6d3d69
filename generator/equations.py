"""Equations a worked solution solves: 'Let x be ...  x + x + 30 = 110 ... 2x = 80 ... x = 40'.

Each equation in a declared unknown becomes a calculation whose tree is its solution over
its own numbers: ``x + x + 30 = 110`` computes ``(110 - 30) / (1 + 1)``. The quantities a
solver writes down next (the 2 and the 80 of '2x = 80': the coefficient and the constant
once like terms are gathered) become hidden steps over the same numbers, so the next line's
numbers are explained as results, like any other. Every equation in one unknown must then
give the same solution in every variant (``symbolic`` checks it), or the problem is rejected.
"""

from __future__ import annotations

import re

from mathgen import algebra
from mathgen.errors import UnsupportedProblem
from mathgen.expressions import (const, evaluate_literals, substitute_symbols, subtrees,
                                 symbols)

from .binding import fingerprint
from .calculations import Calculation

# 'Let x be', 'Let B = the number', 'Let the amount ... be y', 'x represent', 'where r is'
_DECLARED = [
    re.compile(r"\b(?:[Ll]et|[Ii]f we let|[Ss]uppose|[Aa]ssume)\s+([A-Za-z])\s*"
               r"(?:be\b|=|represents?\b|equals?\b|stands? for\b|is\b|:)"),
    re.compile(r"\b[Ll]et\s+(?:the|his|her|their)\b[^.\n=]{0,80}?\bbe\s+([A-Za-z])\b"),
    re.compile(r"\b(?:where|and)\s+([A-Za-z])\s+(?:is|be|represents|stands for)\b"),
    re.compile(r"(?:^|\n)\s*([A-Za-z])\s+(?:be|represents?)\s+the\b"),
]
_NOT_UNKNOWN = {"a", "A", "I"}


def unknowns(body: str) -> list[str]:
    found = []
    for pattern in _DECLARED:
        for m in pattern.finditer(body):
            if m.group(1) not in _NOT_UNKNOWN and m.group(1) not in found:
                found.append(m.group(1))
    for name in list(found):  # 'let X be ...' then '... + x = 27': the same unknown
        other = name.swapcase()
        if other not in found and other not in _NOT_UNKNOWN and re.search(
                rf"(?<![A-Za-z]){other}\s*=|=\s*{other}(?![A-Za-z])", body):
            found.append(other)
    return found


def read(body: str, taken: list[tuple[int, int]], results: set) -> list[Calculation]:
    """Calculations for the equations of ``body`` in its declared unknowns.

    ``taken``: spans of the numbers other calculations already read (left alone);
    ``results``: spans where other calculations write their results (may be shared).
    """
    names = unknowns(body)
    if not names:
        return []
    # the Socratic layout's 'Write an equation ** x+x+30=110': its '**' opens the answer
    # to a sub-question, it is no operator (blanked, so every position stays)
    body = re.sub(r"\*\*(?=[ \t])", "  ", body)
    letters = "".join(re.escape(n) for n in names)
    num = r"\d{1,3}(?:,\d{3})+(?![\d])(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"  # '12,' ends at 12
    token = rf"(?:{num}|(?<![A-Za-z])[{letters}](?![A-Za-z])|[-+*/\u00d7\u00f7\u2013\u2212()=])"
    chain = re.compile(rf"{token}(?:[ \t]*\$?{token})*")
    out, outside, system = [], [], []
    for m in chain.finditer(body):
        text = m.group().rstrip("(=+-*/\u00d7\u00f7\u2013\u2212 \t")  # 'x = 24/3 = <<..'
        if _has(text, names) and text.count("=") == (text[:1] == "="):
            # '3x + 12' or 'David = B/2' (the name before '=' is a word, not an unknown)
            skip = len(text) - len(text.lstrip("= \t"))
            outside.append((m.start() + skip, text[skip:]))
            continue
        if "=" not in text or not _has(text, names):
            continue
        if len(_has(text, names)) > 1 and all(len(_has(side, names)) <= 1 for side in
                                              text.split("=")) and _restates(text, names):
            # 'p + m = 27 and p = 8m': the question's relations in two unknowns, restated
            # before they are combined into one ('8m + m = 27', solved as usual); their
            # numbers are the question's, bound like prose numbers
            system.append(m.span())
            continue
        found = _chain(body, m.start(), text, names, taken, results)
        covered = set(taken) | {span for calc in found for span in calc.spans} \
            | {calc.result_span for calc in found}
        pos = 0
        for part in text.split("="):
            if _has(part, names):  # '3r + 5w = 42' unread: its 3 and 5 could not change
                for number in re.finditer(num, part):
                    span = (m.start() + pos + number.start(), m.start() + pos + number.end())
                    if span not in covered:
                        raise UnsupportedProblem("unsupported-equation",
                                                 f"cannot solve '{text.strip()}'")
            pos += len(part) + 1
        out += found
    out += _expressions(outside, out, names, set(taken) | {s for calc in out for s in calc.spans})
    covered = set(taken) | {span for calc in out for span in (*calc.spans, calc.result_span)}
    for m in re.finditer(rf"(?<![\w.])(?:{num})(?=[{letters}](?![A-Za-z]))", body):
        if any(a <= m.start() < b for a, b in system):
            continue
        if m.span() not in covered:  # 'the pieces are 4x and x' would keep its 4
            raise UnsupportedProblem("unsupported-equation", f"cannot follow '{m.group()}"
                                     f"{body[m.end()]}' outside an equation")
    return out


def _chain(body, start, text, names, taken, results) -> list[Calculation]:
    """'2L + 8 = 22' or 'x = 105(2/7) = 30': one calculation per equation that can be solved."""
    cuts = [-1] + [i for i, ch in enumerate(text) if ch == "="] + [len(text)]
    parts = [(a + 1, b) for a, b in zip(cuts, cuts[1:])]
    out = []
    pairs = list(zip(parts, parts[1:]))
    if len(parts) > 2 and not _has(text[slice(*parts[-1])], names):
        # '(L+8) + L = 2L + 8 = 22': each side with the unknown equals the value at the end
        pairs = [(p, parts[-1]) for p in parts[:-1] if _has(text[slice(*p)], names)]
    for (a, b), (c, d) in pairs:
        left, right = text[a:b], text[c:d]
        if not left.strip() or not right.strip():
            continue
        has = _has(left + " " + right, names)
        if len(has) != 1:
            continue
        eq_text = left + "=" + right
        if "," in eq_text:
            continue
        cut = len(left) + 1  # right-side numbers lie after the '=' at ``c`` in the chain
        try:
            eq = algebra.equation(eq_text.replace("$", " "), has)
        except UnsupportedProblem:
            continue
        spans = tuple((start + a + x.start, start + a + x.end) if x.start < cut else
                      (start + c + x.start - cut, start + c + x.end - cut) for x in eq.literals)
        try:
            solution = algebra.solve([eq], has)[has[0]]
        except UnsupportedProblem:
            out += _identity(start + a, start + d, eq_text.strip(), eq, has[0], spans, cut)
            continue
        if any(s in taken and s not in results for s in spans):
            continue  # numbers another calculation reads
        values = [x.value for x in eq.literals]
        try:
            value = evaluate_literals(solution, values)
        except (ZeroDivisionError, ValueError, UnsupportedProblem):
            continue
        # '5B = 19 - 4 = 15' solves 5B = 15 once 19 - 4 is worked out: it comes after that
        begin = max([start + a] + [span[0] for span in spans if span in results])
        calc = Calculation(begin, start + d, eq_text.strip(), solution, eq.literals, spans,
                           value, None, None, unknown=has[0])
        out.append(calc)
        out += _derived(calc, eq, has[0], values)
    return out


def _identity(begin, end, text, eq, unknown, spans, cut) -> list[Calculation]:
    """'x + (x + 10) = 2x + 10' solves nothing: it gathers like terms. The right side's
    numbers (the 2 and the 10) are results worked out from the left side's numbers, so they
    follow them; each part of the right side must be written, or be a fixed 1 on both."""
    left, right = algebra.sides(eq, {unknown})
    values = [x.value for x in eq.literals]
    own = sum(1 for x in eq.literals if x.start < cut)
    if any(k >= own for tree in left.values() for k in _literal_indices(tree)):
        return []  # the side with the numbers is the right one ('4x = 2(2x)')
    parts = []
    for part in set(left) | set(right):
        mine, written = left.get(part, const(0)), right.get(part, const(0))
        try:
            if evaluate_literals(mine, values) != evaluate_literals(written, values):
                return []  # not an identity: an equation we cannot solve
        except (ZeroDivisionError, ValueError, UnsupportedProblem):
            return []
        if written[0] == "const" and not _literal_indices(mine):
            continue  # 'B - 38 + 50 = B + 12': one B on each side, fixed
        negated = written[0] == "neg" and written[1][0] == "lit"
        if written[0] != "lit" and not negated:
            return []
        k = written[1][1] if negated else written[1]
        parts.append((algebra.difference(None, mine) if negated else mine, k))
    if not parts:
        return []
    out = []
    for tree, k in sorted(parts, key=lambda p: spans[p[1]]):
        value = evaluate_literals(tree, values)
        out.append(Calculation(begin, end, text, tree, eq.literals[:own], spans[:own], value,
                               spans[k], None, of=out[0] if out else None))
    return out


def _literal_indices(tree) -> set[int]:
    return {part[1] for part in subtrees(tree) if part[0] == "lit"}


def _expressions(outside, solved, names, taken) -> list[Calculation]:
    """Hidden steps for expressions in an unknown outside any equation ('Becca: 3x + 12',
    'there are 90 - C cows'): their numbers change with the question's, and their values at
    the solved unknown keep their kind (the cows stay positive)."""
    solving = {}
    for calc in solved:
        if calc.unknown and calc.of is None:
            solving.setdefault(calc.unknown, calc)
    out = []
    for start, text in outside:
        has = _has(text, names)
        if len(has) != 1 or has[0] not in solving or not re.search(r"\d", text):
            continue
        if re.search(rf"\d\s+{re.escape(has[0])}\s+\d", text):
            continue  # '5 x 2': the x multiplies
        try:
            tree, literals = algebra.expression(text, has)
            eq = solving[has[0]]
            value = evaluate_literals(substitute_symbols(tree, {has[0]: const(eq.value)}),
                                      [x.value for x in literals])
        except (UnsupportedProblem, ZeroDivisionError, ValueError):
            continue
        spans = tuple((start + x.start, start + x.end) for x in literals)
        if not literals or any(span in taken for span in spans):
            continue
        out.append(Calculation(eq.start, eq.end, text.strip(), tree, literals, spans, value,
                               None, None, over=eq))
    return out


def _restates(text: str, names) -> bool:
    """Whether an equation in several unknowns is only sums and multiples of them and
    numbers ('p + m = 27', 'j = p + 12', 'p = 8m'): no product of two unknowns."""
    return not re.search(r"[A-Za-z]\s*[*(]?\s*[A-Za-z]|\^", re.sub(r"\d\s*[A-Za-z]", "0", text))


def _has(text: str, names) -> list[str]:
    """The unknowns written in ``text``."""
    return [u for u in names if re.search(rf"(?<![A-Za-z]){re.escape(u)}(?![A-Za-z])", text)]


def _derived(calc: Calculation, eq, unknown: str, values) -> list[Calculation]:
    """Hidden steps for what a solver writes next: each side's coefficient and constant once
    like terms are gathered, the coefficient and constant after moving them, and both
    negated."""
    left, right = algebra.sides(eq, {unknown})
    trees = [left.get(unknown), left.get(None), right.get(unknown), right.get(None),
             algebra.difference(left.get(unknown), right.get(unknown)),
             algebra.difference(right.get(unknown), left.get(unknown)),
             algebra.difference(right.get(None), left.get(None)),
             algebra.difference(left.get(None), right.get(None)),
             # 'x - 20 - 10' gathers to 'x - 30': the 30 is the constant negated
             algebra.difference(None, left.get(None)), algebra.difference(None, right.get(None))]
    out, seen = [], set()
    for tree in trees:
        if tree is None or tree[0] in ("lit", "const") or tree in seen or symbols(tree):
            continue
        seen.add(tree)
        try:
            value = evaluate_literals(tree, values)
        except (ZeroDivisionError, ValueError, UnsupportedProblem):
            continue
        out.append(Calculation(calc.start, calc.end, calc.text, tree, calc.literals, calc.spans,
                               value, None, None, of=calc))
    return out


def written_literals(lit_spans, chosen, raw_steps, result_of) -> list[int]:
    """The literals to write back, by index. Two equations may read one number ('a = b = 62'
    pairs each side with 62): it is written once, and both readings must agree in every
    variant."""
    out, first = [], {}
    points = None
    for k, span in enumerate(lit_spans):
        if span in result_of:
            continue  # written as that calculation's result
        if span in first:
            if points is None:
                points = fingerprint(chosen, raw_steps + [("lit", i) for i in range(len(chosen))],
                                      {})
            j = first[span]
            n = len(raw_steps)
            if any(values[n + k] != values[n + j] for values in points):
                raise UnsupportedProblem("unsupported-equation",
                                         "one number is read two ways by two equations")
            continue
        first[span] = k
        out.append(k)
    return out


def check(sources, chosen, raw_steps) -> None:
    """Every equation in one unknown must give the same solution in any variant."""
    points = fingerprint(chosen, raw_steps, {})
    first: dict[str, int] = {}
    for i, src in enumerate(sources):
        if src.unknown and src.of is None:
            j = first.setdefault(src.unknown, i)
            if any(values[i] != values[j] for values in points):
                raise UnsupportedProblem("unsupported-equation", f"'{src.text}' does not follow "
                                         f"from '{sources[j].text}' once the numbers change")
