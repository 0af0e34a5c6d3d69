"""Conditions over exact rationals computed as pairs of ints, without Fraction objects.

A template with decimals (prices of 0.01 to 0.99) tests conditions such as
``is_int(initial_amount - quantity * unit_price)`` thousands of times, and every step of
``Fraction`` arithmetic builds an object and takes a gcd. Here each number is a numerator
and a positive denominator held in locals, and the condition is written as statements over
them (``a/b - c/d`` is ``a*d - c*b`` over ``b*d``; ``x < y`` compares ``a*d < c*b``)::

    _0t0 = v_quantity * v_unit_price.numerator          # quantity * unit_price
    _0t1 = v_unit_price.denominator
    _0t2 = v_initial_amount.numerator * _0t1 - _0t0 * v_initial_amount.denominator
    _0t3 = v_initial_amount.denominator * _0t1
    _ok = _0t2 % _0t3 == 0                               # is_int(...)

The same truth as the formula language, exactly: a condition that raises (a division by
zero) does not hold, as before. Written only for conditions over numbers, with arithmetic,
comparisons, ``and``, ``not`` and ``int``, ``floor``, ``ceil``, ``abs``, ``round``,
``is_int``, ``divides``, ``Fraction``, ``float``; everything else (``or``, ``x if c else y``,
words, powers) keeps the compiled check of ``generator.compiled``, because all statements of
a condition run before its truth is known, which is right after ``and`` but not after ``or``.
"""

from __future__ import annotations

import ast
from fractions import Fraction
from math import gcd

from mathgen.formulas import FUNCTIONS, Formula


class _Unsupported(Exception):
    pass


def _norm(n, d):
    """A quotient's pair with a positive denominator; ZeroDivisionError for zero."""
    if d > 0:
        return n, d
    if d < 0:
        return -n, -d
    raise ZeroDivisionError("division by zero")


def _trunc(n, d):
    return n // d if n >= 0 else -((-n) // d)


def _round(n, d):  # as Fraction rounds: half to even
    floor, rest = divmod(n, d)
    twice = rest * 2
    return floor if twice < d else floor + 1 if twice > d else floor + (floor & 1)


HELPERS = {"_norm": _norm, "_trunc": _trunc, "_round": _round}


class _Writer:
    def __init__(self, formula: Formula, ints: set, prefix: str, fractions=frozenset()):
        self.functions, self.ints, self.prefix = formula.functions, ints, prefix
        self.fractions = fractions
        self.lines: list[str] = []
        self.count = 0
        self.text = formula.text

    def tmp(self, code: str) -> str:
        name = f"_{self.prefix}t{self.count}"
        self.count += 1
        self.lines.append(f"{name} = {code}")
        return name

    @staticmethod
    def mul(x: str, y: str) -> str:
        return y if x == "1" else x if y == "1" else f"{x} * {y}"

    def call(self, node) -> str:
        name = ast.unparse(node.func)
        if node.keywords or self.functions.get(name) is not FUNCTIONS.get(name):
            raise _Unsupported
        return name

    def num(self, node) -> tuple[str, str]:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _Unsupported
            if isinstance(value, int):
                return repr(value), "1"
            exact = Fraction(ast.get_source_segment(self.text, node) or repr(value))
            return repr(exact.numerator), repr(exact.denominator)
        if isinstance(node, ast.Name):
            if node.id in self.ints:
                return f"v_{node.id}", "1"
            if node.id in self.fractions:  # one public call, not two properties
                n, q = f"_{self.prefix}t{self.count}", f"_{self.prefix}t{self.count + 1}"
                self.count += 2
                self.lines.append(f"{n}, {q} = v_{node.id}.as_integer_ratio()")
                return n, q
            return self.tmp(f"v_{node.id}.numerator"), self.tmp(f"v_{node.id}.denominator")
        if isinstance(node, ast.BinOp):
            (a, b), (c, d) = self.num(node.left), self.num(node.right)
            op, mul = node.op, self.mul
            if isinstance(op, (ast.Add, ast.Sub)):
                sign = "+" if isinstance(op, ast.Add) else "-"
                if b == d:
                    return self.tmp(f"{a} {sign} {c}"), b
                return self.tmp(f"{mul(a, d)} {sign} {mul(c, b)}"), self.tmp(mul(b, d))
            if isinstance(op, ast.Mult):
                return self.tmp(mul(a, c)), self.tmp(mul(b, d)) if "1" not in (b, d) \
                    else mul(b, d)
            if isinstance(op, ast.Div):
                n, q = f"_{self.prefix}t{self.count}", f"_{self.prefix}t{self.count + 1}"
                self.count += 2
                self.lines.append(f"{n}, {q} = _norm({mul(a, d)}, {mul(b, c)})")
                return n, q
            if isinstance(op, ast.FloorDiv):
                return self.tmp(f"({mul(a, d)}) // ({mul(b, c)})"), "1"
            if isinstance(op, ast.Mod):
                return self.tmp(f"({mul(a, d)}) % ({mul(c, b)})"), self.tmp(mul(b, d)) \
                    if "1" not in (b, d) else mul(b, d)
            raise _Unsupported
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            a, b = self.num(node.operand)
            return (self.tmp(f"-{a}"), b) if isinstance(node.op, ast.USub) else (a, b)
        if isinstance(node, ast.Call):
            name = self.call(node)
            args = [self.num(a) for a in node.args]
            if name in ("int", "floor", "ceil", "round", "abs", "float") and len(args) == 1:
                (a, b), = args
                if name == "abs":
                    return self.tmp(f"abs({a})"), b
                if name == "float":
                    return a, b
                code = {"int": f"_trunc({a}, {b})", "floor": f"({a}) // ({b})",
                        "ceil": f"-((-{a}) // ({b}))", "round": f"_round({a}, {b})"}[name]
                return self.tmp(code), "1"
            if name == "Fraction" and len(args) in (1, 2):
                (a, b), (c, d) = args[0], (args[1] if len(args) == 2 else ("1", "1"))
                n, q = f"_{self.prefix}t{self.count}", f"_{self.prefix}t{self.count + 1}"
                self.count += 2
                self.lines.append(f"{n}, {q} = _norm({self.mul(a, d)}, {self.mul(b, c)})")
                return n, q
        raise _Unsupported

    def truth(self, node, negated: bool = False) -> str:
        # under 'not', a part that 'and' (or a chain of comparisons) would have skipped and
        # that raises would turn a True into a broken condition: not written so
        if isinstance(node, ast.Compare):
            if negated and len(node.ops) > 1:
                raise _Unsupported
            ops = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
                   ast.GtE: ">="}
            terms = [self.num(node.left)] + [self.num(c) for c in node.comparators]
            parts = []
            for op, (a, b), (c, d) in zip(node.ops, terms, terms[1:]):
                if type(op) not in ops:
                    raise _Unsupported
                parts.append(f"{self.mul(a, d)} {ops[type(op)]} {self.mul(c, b)}")
            return " and ".join(f"({p})" for p in parts)
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And) and not negated:
            return " and ".join(f"({self.truth(v)})" for v in node.values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return f"not ({self.truth(node.operand, True)})"
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return repr(node.value)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("is_int", "divides"):
            name = self.call(node)
            args = [self.num(a) for a in node.args]
            if name == "is_int" and len(args) == 1:
                (a, b), = args
                return "True" if b == "1" else f"{a} % {b} == 0"
            if name == "divides" and len(args) == 2:
                (a, b), (c, d) = args
                return f"{c} != 0 and ({self.mul(a, d)}) % ({self.mul(c, b)}) == 0"
            raise _Unsupported
        a, _ = self.num(node)
        return f"{a} != 0"


def condition(formula: Formula, numbers: set, ints: set, prefix: str, fractions=frozenset()):
    """(statements, truth) of a condition over pairs of ints, or None where it is not
    written so (see the module's docstring). ``numbers``: the names that hold numbers;
    ``ints``: those that hold ints only; ``fractions``: those that hold Fractions only
    (``compiled.fraction_names``)."""
    if not formula.names <= numbers:
        return None
    writer = _Writer(formula, ints, prefix, fractions)
    try:
        truth = writer.truth(formula.tree)
    except _Unsupported:
        return None
    return writer.lines, truth


def solver(derived, numbers: set, ints: set, fractions=frozenset()):
    """``env -> Fraction``: the value of ``derived.name`` that makes its equation hold
    (``Derived.solve``, on pairs of ints), or None where it is not written so. It raises
    where there is no one value; the caller then asks ``Derived.solve`` why."""
    names = (derived.left.names | derived.right.names) - {derived.name}
    if not names <= numbers:
        return None
    lines = ["def _solve(e):"] + [f"    v_{n} = e[{n!r}]" for n in sorted(names)]
    scope = dict(HELPERS)
    for x in (0, 1):
        lines.append(f"    v_{derived.name} = {x}")
        sides = []
        for side, formula in (("l", derived.left), ("r", derived.right)):
            writer = _Writer(formula, ints | {derived.name}, f"{side}{x}",
                             fractions - {derived.name})
            try:
                sides.append(writer.num(formula.tree))
            except _Unsupported:
                return None
            lines += [f"    {line}" for line in writer.lines]
        (a, b), (c, d) = sides
        lines += [f"    _g{x}n = {_Writer.mul(a, d)} - {_Writer.mul(c, b)}",
                  f"    _g{x}d = {_Writer.mul(b, d)}"]
    lines += ["    _slope = _g1n * _g0d - _g0n * _g1d",
              "    return _Fraction(-(_g0n * _g1d), _slope)"]  # ZeroDivisionError: no slope
    scope["_Fraction"] = Fraction
    # our own source, written from the parsed equation: no text of a file is run
    exec(compile("\n".join(lines), f"<solve {derived.name}>", "exec"), scope)  # noqa: S102
    return scope["_solve"]


def value(formula: Formula, numbers: set, ints: set, prefix: str, fractions=frozenset()):
    """(statements, numerator, denominator) of a numeric formula over pairs of ints, or
    None where it is not written so."""
    if not formula.names <= numbers:
        return None
    writer = _Writer(formula, ints, prefix, fractions)
    try:
        n, d = writer.num(formula.tree)
    except _Unsupported:
        return None
    return writer.lines, n, d


def text(n: int, d: int, kind: int) -> str:
    """The text of ``n / d`` (``d`` > 0) as ``template.show`` writes a value of ``kind``:
    whole numbers as themselves, a Fraction as 'p/q', a decimal as ``numbers.plain`` does
    ('2.5', or 'p/q' where it never terminates)."""
    if n % d == 0:
        return str(n // d)
    g = gcd(n, d)
    n, d = n // g, d // g
    if kind == 1:
        return f"{n}/{d}"
    twos = (d & -d).bit_length() - 1
    rest, fives = d >> twos, 0
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return f"{n}/{d}"
    places = max(twos, fives)
    digits = str(abs(n) * 10 ** places // d).rjust(places + 1, "0")
    return f"{'-' if n < 0 else ''}{digits[:-places]}.{digits[-places:]}"


def check(formula: Formula, numbers: set, ints: set, fractions=frozenset()):
    """``env -> bool`` of a condition on pairs of ints (False where it cannot be
    evaluated), or None where it is not written so."""
    from .compiled import _FAILS

    written = condition(formula, numbers, ints, "w", fractions)
    if written is None:
        return None
    lines = ["def _check(_e):", "    try:"]
    lines += [f"        v_{n} = _e[{n!r}]" for n in sorted(formula.names)]
    lines += [f"        {line}" for line in written[0]]
    lines += [f"        return bool({written[1]})", "    except _FAILS:", "        return False"]
    scope = {**HELPERS, "_FAILS": _FAILS}
    # our own source, written from the parsed condition: no text of a file is run
    exec(compile("\n".join(lines), f"<{formula.text}>", "exec"), scope)  # noqa: S102
    return scope["_check"]


def valued(formula: Formula, numbers: set, ints: set, kind: int | None, fractions=frozenset()):
    """``env -> value`` exactly as ``formula(env)`` gives it, of ``kind``, computed on pairs
    of ints; None where it is not written so. Where it raises, the formula itself is asked
    (and raises its own EvalError)."""
    from mathgen.formulas import Dec

    from .compiled import _FAILS

    written = value(formula, numbers, ints, "a", fractions) if kind is not None else None
    if written is None:
        return None
    lines, n, d = written
    make = {0: f"({n} // {d} if {n} % {d} == 0 else _Dec({n}, {d}))",
            1: f"_Fraction({n}, {d})", 2: f"_Dec({n}, {d})"}[kind]
    body = ["def _value(_e):", "    try:"]
    body += [f"        v_{name} = _e[{name!r}]" for name in sorted(formula.names)]
    body += [f"        {line}" for line in lines] + [f"        return {make}",
                                                    "    except _FAILS:",
                                                    "        return _formula(_e)"]
    scope = {**HELPERS, "_FAILS": _FAILS, "_Dec": Dec, "_Fraction": Fraction,
             "_formula": formula}
    # our own source, written from the parsed formula: no text of a file is run
    exec(compile("\n".join(body), f"<{formula.text}>", "exec"), scope)  # noqa: S102
    return scope["_value"]
