"""Formulas of templates: a whitelisted subset of Python expressions, evaluated exactly.

Templates state their constraints, solution steps and answers as formulas::

    f = parse("is_int(n * frac) and n > 2 * k")
    f.names                        # frozenset({'n', 'frac', 'k'})
    f({"n": 40, "frac": Fraction(1, 2), "k": 3})   # True
    f.sympy()                      # the same formula as a SymPy expression

Nothing is handed to ``eval``: the text is parsed with ``ast`` and every node must be one of
a short list (numbers, names, arithmetic, comparisons, ``and``/``or``/``not``, ``x if c else
y``, indexing, and calls of the functions in ``FUNCTIONS``); anything else is a FormulaError
that names the construct. Numbers are exact and keep how Python would write them: ``int``,
``Dec`` (a decimal such as 0.25 or 7/2, Python's float but exact) and ``Fraction`` (written
``7/2``, as ``Fraction(7, 2)`` prints), so 0.1 + 0.2 == 0.3 holds.
"""

from __future__ import annotations

import ast
import math
from fractions import Fraction
from typing import Any, Callable

from mathgen.errors import MathgenError
from mathgen.numbers import plain

_MAX_LENGTH = 2000
_MAX_DEPTH = 60


class FormulaError(MathgenError):
    """A formula that cannot be read, or that uses something outside the whitelist."""


class EvalError(MathgenError):
    """A formula that cannot be evaluated at some values (a division by zero, a bad type)."""


class Dec(Fraction):
    """An exact rational written as a decimal: what Python would hold as a float."""

    def __str__(self):
        return plain(Fraction(self))

    __repr__ = __str__

    def __hash__(self):
        # a drawn value keys a set or a dict on every draw, and Fraction works its hash out
        # afresh each time (a modular inverse): the same hash, kept
        h = self.__dict__.get("_hash")
        if h is None:
            h = self.__dict__["_hash"] = Fraction.__hash__(self)
        return h


class Worded(Dec):
    """A number with a written form: ``Worded(Fraction(1, 2), "half")`` prints as 'half'."""

    def __new__(cls, value, text: str):
        self = super().__new__(cls, value)
        self.text = text
        return self

    def __str__(self):
        return self.text

    __repr__ = __str__

    def __reduce__(self):
        return (Worded, (Fraction(self), self.text))


def _kind(x) -> int:
    """0 int, 1 Fraction, 2 Dec (decimals win over fractions, as floats do in Python)."""
    if isinstance(x, Dec):
        return 2
    if isinstance(x, Fraction):
        return 1
    if isinstance(x, (int, bool)):
        return 0
    raise EvalError(f"expected a number, found {type(x).__name__} {str(x)[:30]!r}")


def _wrap(value: Fraction, kind: int):
    if kind == 0:
        if value.denominator != 1:
            return Dec(value)
        return int(value)
    return Dec(value) if kind == 2 else Fraction(value)


def _arith(op: str, a, b):
    if isinstance(a, (list, tuple, str)) or isinstance(b, (list, tuple, str)):
        if op == "+" and type(a) is type(b):
            return a + b
        if op == "*" and isinstance(b, int) and not isinstance(a, (int, Fraction)):
            return a * b
        if op == "*" and isinstance(a, int) and not isinstance(b, (int, Fraction)):
            return a * b
        raise EvalError(f"cannot apply {op} to {type(a).__name__} and {type(b).__name__}")
    kind = max(_kind(a), _kind(b))
    x, y = Fraction(a), Fraction(b)
    try:
        if op == "+":
            return _wrap(x + y, kind)
        if op == "-":
            return _wrap(x - y, kind)
        if op == "*":
            return _wrap(x * y, kind)
        if op == "/":
            return _wrap(x / y, max(kind, 1) if kind else 2)
        if op == "//":
            return _wrap(Fraction(x // y), kind)
        if op == "%":
            return _wrap(x % y, kind)
    except ZeroDivisionError:
        raise EvalError("division by zero") from None
    # power: small whole exponents only, so values stay exact and small
    if y.denominator != 1 or abs(y) > 64 or \
            max(x.numerator.bit_length(), x.denominator.bit_length()) * abs(y) > 4096:
        raise EvalError("only small whole powers are exact")
    if x == 0 and y < 0:
        raise EvalError("division by zero")
    return _wrap(x ** int(y), kind if y >= 0 or kind else 2)


def _index(target, i: int):
    if isinstance(target, Worded):  # a (text, value) pair: [0] is the text, [1] the value
        return (target.text, Dec(target))[i]
    return target[i]


def _int(x):
    if isinstance(x, str):
        try:
            return int(x)
        except ValueError:
            raise EvalError(f"int({x!r}): not a whole number") from None
    return int(Fraction(x))  # truncates toward zero, as Python does


def _round(x, places=None):
    if places is None:
        return int(round(Fraction(x)))
    return Dec(round(Fraction(x), int(places)))


def _fraction(a, b=1):
    try:
        return Fraction(Fraction(a), Fraction(b))
    except ZeroDivisionError:
        raise EvalError("Fraction with a zero denominator") from None


def _whole(x) -> int:
    x = Fraction(x)
    if x.denominator != 1:
        raise EvalError("gcd and lcm take whole numbers")
    return int(x)


def _divides(a, b) -> bool:
    """True when ``b`` divides ``a`` exactly (GSM-Symbolic's ``divides(total, parts)``)."""
    b = Fraction(b)
    return b != 0 and Fraction(a) % b == 0


FUNCTIONS: dict[str, Callable] = {
    "int": _int,
    "round": _round,
    "abs": lambda x: _wrap(abs(Fraction(x)), _kind(x)),
    "min": lambda *xs: min(xs[0] if len(xs) == 1 else xs),
    "max": lambda *xs: max(xs[0] if len(xs) == 1 else xs),
    "is_int": lambda x: Fraction(x).denominator == 1,
    "divides": _divides,
    "Fraction": _fraction,
    "float": lambda x: Dec(Fraction(x)),
    "floor": lambda x: math.floor(Fraction(x)),
    "ceil": lambda x: math.ceil(Fraction(x)),
    "gcd": lambda *xs: math.gcd(*(_whole(x) for x in xs)),
    "lcm": lambda *xs: math.lcm(*(_whole(x) for x in xs)),
    "sum": lambda xs: sum(xs),
    "len": lambda xs: len(xs),
}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**"}
_COMPARE = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
            ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
            ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}
_SYMPY_COMPARE = {ast.Eq: "Eq", ast.NotEq: "Ne", ast.Lt: "Lt", ast.LtE: "Le", ast.Gt: "Gt",
                  ast.GtE: "Ge"}


class Formula:
    """A parsed formula: call it with a dict of values to evaluate it exactly."""

    def __init__(self, text: str, tree: ast.expr, run: Callable, names: frozenset,
                 calls: frozenset, functions: dict[str, Callable] | None = None):
        self.text, self.tree, self._run = text, tree, run
        self.names, self.calls = names, calls
        # the whitelist it was read with: what its calls mean when it is compiled again
        self.functions = FUNCTIONS if functions is None else functions

    def __call__(self, env: dict) -> Any:
        try:
            return self._run(env)
        except EvalError:
            raise
        except ZeroDivisionError:
            raise EvalError(f"{self.text}: division by zero") from None
        except KeyError as err:
            raise EvalError(f"{self.text}: no value for {err.args[0]!r}") from None
        except (TypeError, ValueError, OverflowError, IndexError) as err:
            raise EvalError(f"{self.text}: {err}") from None

    def __repr__(self):
        return f"Formula({self.text!r})"

    def sympy(self):
        """The formula as a SymPy expression (relations for comparisons, ``And``/``Or``)."""
        return _to_sympy(self.tree)


def parse(text: str, functions: dict[str, Callable] | None = None) -> Formula:
    """Parse ``text``; a FormulaError names what is wrong or not allowed.

    ``functions`` replaces the whitelist of callable names (default ``FUNCTIONS``).
    """
    if not isinstance(text, str):
        text = str(text)
    source = text.strip()
    if not source:
        raise FormulaError("empty formula")
    if len(source) > _MAX_LENGTH:
        raise FormulaError(f"formula longer than {_MAX_LENGTH} characters")
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as err:
        raise FormulaError(f"cannot read formula {source!r}: {err.msg} "
                           f"(column {err.offset or 0})") from None
    functions = FUNCTIONS if functions is None else functions
    builder = _Builder(source, functions)
    run = builder.build(tree, 0)
    return Formula(source, tree, run, frozenset(builder.names), frozenset(builder.calls),
                   functions)


class _Builder:
    """Turns a checked AST into nested closures (fast to call, nothing evaluated as code)."""

    def __init__(self, source: str, functions: dict[str, Callable]):
        self.source, self.functions = source, functions
        self.names: set[str] = set()
        self.calls: set[str] = set()

    def fail(self, node, what: str):
        raise FormulaError(f"formula {self.source!r}: {what} is not allowed "
                           f"(column {getattr(node, 'col_offset', 0) + 1}); formulas use numbers, "
                           "names, + - * / // % **, comparisons, and/or/not and the functions "
                           + ", ".join(sorted(self.functions)))

    def build(self, node, depth: int) -> Callable:
        if depth > _MAX_DEPTH:
            raise FormulaError(f"formula {self.source!r}: nested too deeply")
        d = depth + 1
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or isinstance(value, (int, str)):
                return lambda env: value
            if isinstance(value, float):
                text = ast.get_source_segment(self.source, node) or repr(value)
                exact = Dec(Fraction(text.replace("_", "")))
                return lambda env: exact
            self.fail(node, f"the constant {value!r}")
        if isinstance(node, ast.Name):
            name = node.id
            if name in ("True", "False"):
                flag = name == "True"
                return lambda env: flag
            self.names.add(name)
            return lambda env: env[name]
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                self.fail(node, f"the operator {type(node.op).__name__}")
            left, right = self.build(node.left, d), self.build(node.right, d)
            return lambda env: _arith(op, left(env), right(env))
        if isinstance(node, ast.UnaryOp):
            inner = self.build(node.operand, d)
            if isinstance(node.op, ast.USub):
                return lambda env: _arith("-", 0, inner(env))
            if isinstance(node.op, ast.UAdd):
                return inner
            if isinstance(node.op, ast.Not):
                return lambda env: not inner(env)
            self.fail(node, f"the operator {type(node.op).__name__}")
        if isinstance(node, ast.BoolOp):
            parts = [self.build(v, d) for v in node.values]
            if isinstance(node.op, ast.And):
                return lambda env: all(p(env) for p in parts)
            return lambda env: any(p(env) for p in parts)
        if isinstance(node, ast.Compare):
            ops = []
            for op in node.ops:
                if type(op) not in _COMPARE:
                    self.fail(node, f"the comparison {type(op).__name__}")
                ops.append(_COMPARE[type(op)])
            items = [self.build(node.left, d)] + [self.build(c, d) for c in node.comparators]

            def compare(env):
                left = items[0](env)
                for fn, item in zip(ops, items[1:]):
                    right = item(env)
                    if not fn(left, right):
                        return False
                    left = right
                return True
            return compare
        if isinstance(node, ast.IfExp):
            test, body, orelse = (self.build(n, d) for n in (node.test, node.body, node.orelse))
            return lambda env: body(env) if test(env) else orelse(env)
        if isinstance(node, ast.Subscript):
            target = self.build(node.value, d)
            if isinstance(node.slice, ast.Slice):
                bounds = [None if b is None else self.build(b, d)
                          for b in (node.slice.lower, node.slice.upper, node.slice.step)]
                return lambda env: target(env)[slice(*(None if b is None else _int(b(env))
                                                       for b in bounds))]
            index = self.build(node.slice, d)
            return lambda env: _index(target(env), _int(index(env)))
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.build(e, d) for e in node.elts]
            make = list if isinstance(node, ast.List) else tuple
            return lambda env: make(item(env) for item in items)
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name is None or name not in self.functions:
                self.fail(node, f"calling {name or 'this'}" if name is None
                          else f"the function {name!r}")
            if node.keywords:
                self.fail(node, "a keyword argument")
            fn = self.functions[name]
            self.calls.add(name)
            args = [self.build(a, d) for a in node.args]
            return lambda env: fn(*(a(env) for a in args))
        self.fail(node, type(node).__name__.lower())


def _dotted(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def _to_sympy(node):
    import sympy

    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            return sympy.true if node.value else sympy.false
        if isinstance(node.value, (int, float)):
            return sympy.Rational(str(node.value))
        return sympy.Symbol(repr(node.value))
    if isinstance(node, ast.Name):
        return sympy.Symbol(node.id)
    if isinstance(node, ast.BinOp):
        a, b = _to_sympy(node.left), _to_sympy(node.right)
        op = _BINOPS[type(node.op)]
        return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
                "//": lambda: sympy.floor(a / b), "%": lambda: sympy.Mod(a, b),
                "**": lambda: a ** b}[op]()
    if isinstance(node, ast.UnaryOp):
        inner = _to_sympy(node.operand)
        return sympy.Not(inner) if isinstance(node.op, ast.Not) else \
            (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.BoolOp):
        parts = [_to_sympy(v) for v in node.values]
        return sympy.And(*parts) if isinstance(node.op, ast.And) else sympy.Or(*parts)
    if isinstance(node, ast.Compare):
        terms = [_to_sympy(node.left)] + [_to_sympy(c) for c in node.comparators]
        rels = [getattr(sympy, _SYMPY_COMPARE[type(op)])(a, b)
                for op, a, b in zip(node.ops, terms, terms[1:])]
        return rels[0] if len(rels) == 1 else sympy.And(*rels)
    if isinstance(node, ast.IfExp):
        return sympy.Piecewise((_to_sympy(node.body), _to_sympy(node.test)),
                               (_to_sympy(node.orelse), True))
    if isinstance(node, ast.Call):
        name = _dotted(node.func) or "f"
        args = [_to_sympy(a) for a in node.args]
        known = {"floor": sympy.floor, "ceil": sympy.ceiling, "abs": sympy.Abs,
                 "min": sympy.Min, "max": sympy.Max, "Fraction": lambda a, b=1: a / b,
                 "is_int": lambda a: sympy.Eq(sympy.Mod(a, 1), 0),
                 "divides": lambda a, b: sympy.Eq(sympy.Mod(a, b), 0)}
        if name in known:
            return known[name](*args)
        return sympy.Function(name.replace(".", "_"))(*args)
    return sympy.Symbol(ast.unparse(node))
