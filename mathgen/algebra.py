"""Linear equations written in solutions and formulas, solved exactly with their numbers kept.

``equation("x+x+30=110", {"x"})`` reads both sides as trees whose leaves are the written
numbers (by index), so the solution ``solve([eq], ["x"])["x"]`` is a tree over those same
numbers: ``(110 - 30) / (1 + 1)``. A variant that changes 30 and 110 gets the right x by
evaluating that tree; nothing is solved again and nothing is rounded.

Only linear equations are solved: an unknown may be multiplied or divided by numbers, never
by another unknown or by itself. One equation per unknown; two unknowns by Cramer's rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from mathgen import expressions
from mathgen.errors import UnsupportedProblem
from mathgen.expressions import Literal, const
from mathgen.wording import counted

_SAME_LENGTH = str.maketrans({"\u00d7": "*", "\u00f7": "/", "\u2013": "-", "\u2212": "-"})


class Nonlinear(UnsupportedProblem):
    def __init__(self, detail: str):
        super().__init__("unsupported-equation", detail)


@dataclass(frozen=True)
class Equation:
    left: tuple
    right: tuple
    literals: tuple[Literal, ...]  # positions in the text given to ``equation``


def equation(text: str, unknowns) -> Equation:
    """Parse 'LEFT = RIGHT'; '2x', '3(x + 1)' and ')(' multiply. Literal spans index ``text``."""
    if text.count("=") != 1:
        raise UnsupportedProblem("unsupported-equation", f"{text!r} is not one equation")
    names = frozenset(unknowns)
    plain, where = _explicit(text.translate(_SAME_LENGTH), names)
    cut = plain.index("=")
    left, lits_left = expressions.parse(plain[:cut], names)
    right, lits_right = expressions.parse(plain[cut + 1:], names)
    shift = len(lits_left)
    literals = [Literal(where[x.start], where[x.end - 1] + 1, x.text, x.value) for x in lits_left]
    literals += [Literal(where[cut + 1 + x.start], where[cut + x.end] + 1, x.text, x.value)
                 for x in lits_right]
    return Equation(left, _renumber(right, shift), tuple(literals))


def expression(text: str, unknowns) -> tuple[tuple, tuple[Literal, ...]]:
    """Parse an expression in the unknowns ('3x + 12', '(1/2)x'); spans index ``text``."""
    plain, where = _explicit(text.translate(_SAME_LENGTH), frozenset(unknowns))
    tree, lits = expressions.parse(plain, frozenset(unknowns))
    return tree, tuple(Literal(where[x.start], where[x.end - 1] + 1, x.text, x.value)
                       for x in lits)


def _explicit(text: str, names: frozenset) -> tuple[str, list[int]]:
    """The text with '*' written where juxtaposition multiplies, and each character's origin."""
    out, where = [], []
    prev = ""
    for i, ch in enumerate(text):
        if ch.isspace():
            out.append(ch)
            where.append(i)
            continue
        operand = ch == "(" or ch in names or (ch.isdigit() or ch == ".") and not (
            prev.isdigit() or prev == ".")
        if operand and (prev == ")" or prev in names or prev.isdigit()
                        and (ch == "(" or ch in names)):
            out.append("*")
            where.append(i)
        out.append(ch)
        where.append(i)
        prev = ch
    return "".join(out), where


def _renumber(tree: tuple, shift: int) -> tuple:
    if tree[0] == "lit":
        return ("lit", tree[1] + shift)
    if tree[0] in ("sym", "const"):
        return tree
    if tree[0] == "call":
        return ("call", tree[1], tuple(_renumber(a, shift) for a in tree[2]))
    return (tree[0],) + tuple(_renumber(a, shift) for a in tree[1:])


def linear(tree: tuple, unknowns) -> dict:
    """The tree as {unknown: coefficient tree, None: constant tree}; zero parts are left out."""
    op = tree[0]
    if op == "sym":
        if tree[1] in unknowns:
            return {tree[1]: const(1)}
        return {None: tree}
    if op in ("lit", "const"):
        return {None: tree}
    if not expressions.symbols(tree) & set(unknowns):
        return {None: tree}
    if op == "neg":
        return {k: _neg(t) for k, t in linear(tree[1], unknowns).items()}
    if op in ("add", "sub"):
        a, b = linear(tree[1], unknowns), linear(tree[2], unknowns)
        out = dict(a)
        for k, t in b.items():
            if k in out:
                out[k] = (op, out[k], t)
            else:
                out[k] = t if op == "add" else _neg(t)
        return out
    if op == "mul":
        a, b = linear(tree[1], unknowns), linear(tree[2], unknowns)
        if set(a) == {None}:
            return {k: _times(a[None], t) for k, t in b.items()}
        if set(b) == {None}:
            return {k: _times(t, b[None]) for k, t in a.items()}
        raise Nonlinear("an unknown is multiplied by an unknown")
    if op == "div":
        a, b = linear(tree[1], unknowns), linear(tree[2], unknowns)
        if set(b) == {None}:
            return {k: ("div", t, b[None]) for k, t in a.items()}
        raise Nonlinear("something is divided by an unknown")
    raise Nonlinear(f"an unknown inside {op}")


def _neg(t):
    return t[1] if t[0] == "neg" else ("neg", t)


def _times(a, b):
    if a == const(1):
        return b
    if b == const(1):
        return a
    return ("mul", a, b)


def difference(a, b):
    """a - b as a tree; None stands for zero."""
    if b is None:
        return a
    if a is None:
        return _neg(b)
    if b[0] == "neg":
        return ("add", a, b[1])
    return ("sub", a, b)


def sides(eq: Equation, unknowns, shift: int = 0) -> tuple[dict, dict]:
    """Both sides as linear forms, the side with an unknown first ('20 * 2 = x + 3' reads as
    'x + 3 = 20 * 2'); ``shift`` renumbers the literals."""
    left = linear(_renumber(eq.left, shift), unknowns)
    right = linear(_renumber(eq.right, shift), unknowns)
    return (right, left) if not set(left) & set(unknowns) else (left, right)


def solve(equations: list[Equation], unknowns: list[str]) -> dict[str, tuple]:
    """Each unknown as a tree over the equations' literals (indices run across the equations
    in order: the literals of equation 2 follow those of equation 1)."""
    if len(equations) != len(unknowns) or not 1 <= len(unknowns) <= 2:
        raise UnsupportedProblem("unsupported-equation",
                                 f"{counted(len(equations), 'equation')} for "
                                 f"{counted(len(unknowns), 'unknown')}")
    rows, shift, values = [], 0, []
    for eq in equations:
        left, right = sides(eq, unknowns, shift)
        row = {u: difference(left.get(u), right.get(u)) for u in unknowns}
        row[None] = difference(right.get(None), left.get(None))
        rows.append(row)
        values += [x.value for x in eq.literals]
        shift += len(eq.literals)

    def value(t):
        return 0 if t is None else expressions.evaluate_literals(t, values)

    if len(unknowns) == 1:
        (u,) = unknowns
        a, b = rows[0][u], rows[0][None]
        if a is None or value(a) == 0:
            raise UnsupportedProblem("unsupported-equation", f"{u} cannot be solved for")
        return {u: _over(b, a)}
    (x, y), (r1, r2) = unknowns, rows
    det = difference(_product(r1[x], r2[y]), _product(r1[y], r2[x]))
    if det is None or value(det) == 0:
        raise UnsupportedProblem("unsupported-equation", "the equations do not fix the unknowns")
    return {x: _over(difference(_product(r1[None], r2[y]), _product(r1[y], r2[None])), det),
            y: _over(difference(_product(r1[x], r2[None]), _product(r1[None], r2[x])), det)}


def _product(a, b):
    return None if a is None or b is None else _times(a, b)


def _over(b, a):
    b = const(0) if b is None else b
    return b if a == const(1) else ("div", b, a)


_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "floordiv": 2, "mod": 2, "neg": 3,
               "pow": 4}
_SIGN = {"add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "mod": "%",
         "pow": "**"}


def to_text(tree: tuple, texts: list[str]) -> str:
    """Calculator text of a tree whose literals are written as ``texts``."""
    op = tree[0]
    if op == "lit":
        return texts[tree[1]]
    if op == "const":
        v = Fraction(tree[1])
        return str(v.numerator) if v.denominator == 1 else f"({v.numerator}/{v.denominator})"
    if op == "sym":
        return tree[1]
    if op == "call":
        return f"{tree[1]}({', '.join(to_text(a, texts) for a in tree[2])})"
    if op == "neg":
        inner = to_text(tree[1], texts)
        return f"-({inner})" if _PRECEDENCE.get(tree[1][0], 9) <= 3 else f"-{inner}"
    mine = _PRECEDENCE[op]
    left, right = to_text(tree[1], texts), to_text(tree[2], texts)
    if _PRECEDENCE.get(tree[1][0], 9) < mine:
        left = f"({left})"
    if _PRECEDENCE.get(tree[2][0], 9) <= mine and not (op in ("add", "mul")
                                                       and tree[2][0] == op):
        right = f"({right})"
    return f"{left} {_SIGN[op]} {right}"

