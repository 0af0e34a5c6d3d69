"""Template conditions compiled once to Python code over plain ints and Fractions.

``mathgen.formulas`` evaluates a formula through nested closures that keep track of each
value's kind (a decimal stays a decimal, so a rendered number keeps its form). A condition
is only ever tested for truth, where the kind does not matter but the value does, and it is
tested on every draw: compiled to one code object it runs several times faster, with the
same exact value::

    check = compile_check(parse("x % y == 0 and x + y <= 100"))
    check({"x": 12, "y": 4})  # True; False when it raises (a division by zero), as before

Only numbers, names, arithmetic, comparisons, and/or/not, ``a if t else b`` and whitelisted
calls are compiled; a formula with anything else (a list, an index) gives None and is
evaluated as written. ``/`` divides exactly (a Fraction, never a float); ``**`` goes through
the formula language's own exact power, which refuses huge results.
"""

from __future__ import annotations

import ast
from fractions import Fraction
from typing import Callable

from mathgen.errors import MathgenError
from mathgen.formulas import FUNCTIONS, Dec, Formula, _arith
from mathgen.numbers import plain

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
            ast.GtE: ">="}
# what a broken formula raises while it runs: the formula language turns each into an
# EvalError, which a condition reads as broken
_FAILS = (MathgenError, ZeroDivisionError, KeyError, TypeError, ValueError, OverflowError,
          IndexError, ArithmeticError)


def _div(a, b):
    if type(a) is int and type(b) is int and b:
        # the same value as the Fraction, made far faster
        return a // b if not a % b else Fraction(a, b)
    return Fraction(a) / b  # exact, as the formula language divides


# the whitelist's functions that conditions call most, with a path for ints that gives the
# same value without building Fractions (the others are called as they are)
def _fast_divides(a, b):
    if type(a) is int and type(b) is int:
        return b != 0 and a % b == 0
    return FUNCTIONS["divides"](a, b)


def _fast_is_int(x):
    return type(x) is int or FUNCTIONS["is_int"](x)


def _fast_int(x):
    return x if type(x) is int else FUNCTIONS["int"](x)


_FAST = {FUNCTIONS["divides"]: _fast_divides, FUNCTIONS["is_int"]: _fast_is_int,
         FUNCTIONS["int"]: _fast_int}


def _pow(a, b):
    return _arith("**", a, b)


class _Unsupported(Exception):
    pass


class _Writer:
    def __init__(self, functions: dict[str, Callable], whole: frozenset = frozenset(),
                 local: str = ""):
        self.functions, self.consts, self.whole = functions, {}, whole
        self.local = local  # names as locals: each const then named with this prefix too

    def const(self, value) -> str:
        name = f"_{self.local}c{len(self.consts)}"
        self.consts[name] = value
        return name

    def write(self, node) -> str:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or isinstance(value, int):
                return repr(value)
            if isinstance(value, float):
                # the literal as written ('0.1' is 1/10), not the float's binary value
                return self.const(Fraction(ast.unparse(node)))
            raise _Unsupported
        if isinstance(node, ast.Name):
            if node.id in ("True", "False"):
                return node.id
            read = f"v_{node.id}" if self.local else f"_e[{node.id!r}]"
            return f"_n({read})" if node.id in self.whole else read
        if isinstance(node, ast.BinOp):
            left, right = self.write(node.left), self.write(node.right)
            if isinstance(node.op, ast.Div):
                return f"_div({left}, {right})"
            if isinstance(node.op, ast.Pow):
                return f"_pow({left}, {right})"
            op = _OPS.get(type(node.op))
            if op is None:
                raise _Unsupported
            return f"({left} {op} {right})"
        if isinstance(node, ast.UnaryOp):
            inner = self.write(node.operand)
            if isinstance(node.op, ast.USub):
                return f"(-{inner})"
            if isinstance(node.op, ast.UAdd):
                return inner
            if isinstance(node.op, ast.Not):
                return f"(not {inner})"
            raise _Unsupported
        if isinstance(node, ast.BoolOp):
            # bool() of each part: the formula language's and/or give True/False
            joiner = " and " if isinstance(node.op, ast.And) else " or "
            return "(" + joiner.join(f"bool({self.write(v)})" for v in node.values) + ")"
        if isinstance(node, ast.Compare):
            parts = [self.write(node.left)]
            for op, right in zip(node.ops, node.comparators):
                symbol = _COMPARE.get(type(op))
                if symbol is None:
                    raise _Unsupported
                parts += [symbol, self.write(right)]
            return "(" + " ".join(parts) + ")"
        if isinstance(node, ast.IfExp):
            return (f"({self.write(node.body)} if {self.write(node.test)} "
                    f"else {self.write(node.orelse)})")
        if isinstance(node, ast.Call) and not node.keywords:
            name = ast.unparse(node.func)
            if name not in self.functions:
                raise _Unsupported
            fn = self.functions[name]
            fn = self.const(_FAST.get(fn, fn))
            return f"{fn}({', '.join(self.write(a) for a in node.args)})"
        raise _Unsupported


def _n(x):
    return x.numerator if x.denominator == 1 else x


def compile_value(formula: Formula, whole: frozenset = frozenset()) -> Callable | None:
    """``env -> value`` of ``formula`` as an int or Fraction (raising as it would), or None
    when the formula holds something that is not compiled. The names in ``whole`` hold
    numbers that are often whole Fractions (words such as 'twice'): they are read as ints
    where they are whole, so that the arithmetic stays on ints (the same values)."""
    writer = _Writer(formula.functions, whole)
    try:
        body = writer.write(formula.tree)
    except _Unsupported:
        return None
    scope = {"_div": _div, "_pow": _pow, "_n": _n, "__builtins__": {"bool": bool},
             **writer.consts}
    # our own source, written from a parsed and whitelisted tree: no text of the file is run
    return eval(compile(f"lambda _e: {body}", f"<{formula.text}>", "eval"), scope)  # noqa: S307


def source(formula: Formula, whole: frozenset, prefix: str) -> tuple[str, dict] | None:
    """``formula`` as a Python expression over locals ``v_<name>``, and what it needs in
    scope (its constants named with ``prefix``), to be written into a larger function;
    None when it is not compiled. The caller treats an exception as a broken condition."""
    writer = _Writer(formula.functions, whole, local=prefix)
    try:
        body = writer.write(formula.tree)
    except _Unsupported:
        return None
    return body, {"_div": _div, "_pow": _pow, "_n": _n, **writer.consts}


def compile_check(formula: Formula, whole: frozenset = frozenset()) -> Callable:
    """``env -> bool``: whether the condition holds; a formula that fails to evaluate (a
    division by zero) does not hold. Formulas that are not compiled are called as written.
    ``whole``: as for ``compile_value``."""
    run = compile_value(formula, whole) or formula

    def check(env):
        try:
            return bool(run(env))
        except _FAILS:
            return False
    return check


# Values kept with their kind, as the formula language keeps them (an int stays an int, a
# quotient of ints is a decimal, so it is written '2.5', never '5/2'): the common case, two
# ints, is done here; every other pair goes through the language's own arithmetic.
def _k_add(a, b):
    return a + b if type(a) is int and type(b) is int else _arith("+", a, b)


def _k_sub(a, b):
    return a - b if type(a) is int and type(b) is int else _arith("-", a, b)


def _k_mul(a, b):
    return a * b if type(a) is int and type(b) is int else _arith("*", a, b)


def _k_floordiv(a, b):
    return a // b if type(a) is int and type(b) is int and b else _arith("//", a, b)


def _k_mod(a, b):
    return a % b if type(a) is int and type(b) is int and b else _arith("%", a, b)


def _k_neg(a):
    return -a if type(a) is int else _arith("-", 0, a)


_KINDED = {ast.Add: "_k_add", ast.Sub: "_k_sub", ast.Mult: "_k_mul", ast.FloorDiv: "_k_floordiv",
           ast.Mod: "_k_mod"}


class _KindedWriter(_Writer):
    def __init__(self, formula: Formula):
        super().__init__(formula.functions)
        self.text = formula.text

    def write(self, node) -> str:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, str):
                return repr(value)
            if isinstance(value, float):  # a decimal as written, as the language reads it
                text = ast.get_source_segment(self.text, node) or repr(value)
                return self.const(Dec(Fraction(text.replace("_", ""))))
            return super().write(node)
        if isinstance(node, ast.BinOp):
            left, right = self.write(node.left), self.write(node.right)
            helper = _KINDED.get(type(node.op))
            if helper is not None:
                return f"{helper}({left}, {right})"
            op = {ast.Div: "/", ast.Pow: "**"}.get(type(node.op))
            if op is None:
                raise _Unsupported
            return f"_arith({op!r}, {left}, {right})"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return f"_k_neg({self.write(node.operand)})"
        return super().write(node)


def compile_kinded(formula: Formula) -> Callable:
    """``env -> value`` exactly as ``formula(env)`` gives it, of the same kind (int, decimal,
    Fraction, word) and raising the same EvalError; compiled where ``compile_value`` is, the
    formula itself otherwise. What renders a value needs its kind, not only its value."""
    writer = _KindedWriter(formula)
    try:
        body = writer.write(formula.tree)
    except _Unsupported:
        return formula
    scope = {"_k_add": _k_add, "_k_sub": _k_sub, "_k_mul": _k_mul, "_k_floordiv": _k_floordiv,
             "_k_mod": _k_mod, "_k_neg": _k_neg, "_arith": _arith,
             "__builtins__": {"bool": bool}, **writer.consts}
    # our own source, written from a parsed and whitelisted tree: no text of the file is run
    fast = eval(compile(f"lambda _e: {body}", f"<{formula.text}>", "eval"), scope)  # noqa: S307

    def run(env):
        try:
            return fast(env)
        except _FAILS:
            return formula(env)  # raises the formula's own EvalError, with its text
    run.formula = formula
    return run


# The kind a formula's value has, known from the kinds of its names (0 int, 1 Fraction,
# 2 decimal, as mathgen.formulas._kind counts them), so that the value can be computed on
# ints by ``compile_value`` and given its kind once at the end: the same value, the same
# kind, as the formula language's arithmetic gives step by step.
_KIND_OF_CALL = {"int": 0, "floor": 0, "ceil": 0, "gcd": 0, "lcm": 0, "float": 2, "Fraction": 1}


def static_kind(formula: Formula, kinds: dict) -> int | None:
    """The kind of ``formula``'s value given the kinds of its names; None when it is not
    known without evaluating it (a word, a choice, a power, min/max)."""
    def kind(node):
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
            return 0 if isinstance(value, int) else 2
        if isinstance(node, ast.Name):
            return kinds.get(node.id)
        if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Pow):
            left, right = kind(node.left), kind(node.right)
            if left is None or right is None:
                return None
            k = max(left, right)
            return (max(k, 1) if k else 2) if isinstance(node.op, ast.Div) else k
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return kind(node.operand)
        if isinstance(node, ast.Call) and not node.keywords:
            name = ast.unparse(node.func)
            if formula.functions.get(name) is not FUNCTIONS.get(name):
                return None
            if name == "round":
                return 0 if len(node.args) == 1 else 2 if len(node.args) == 2 else None
            if name == "abs" and len(node.args) == 1:
                return kind(node.args[0])
            return _KIND_OF_CALL.get(name)
        return None
    return kind(formula.tree)


def with_kind(value, kind: int):
    """An exact value as the formula language holds a value of ``kind``."""
    if kind == 0:
        return value if type(value) is int else int(value) if value.denominator == 1 \
            else Dec(value)
    return Fraction(value) if kind == 1 else Dec(value)


def compile_valued(formula: Formula, kind: int | None, whole: frozenset = frozenset()):
    """``env -> value`` exactly as ``formula(env)``: computed on ints and given ``kind`` at
    the end where the kind is known, else as ``compile_kinded``."""
    fast = compile_value(formula, whole) if kind is not None else None
    if fast is None:
        return compile_kinded(formula)

    def run(env):
        try:
            return with_kind(fast(env), kind)
        except _FAILS:
            return formula(env)  # raises the formula's own EvalError, with its text
    return run


def domain_kind(domain) -> int | None:
    """The kind every value of a domain has, or None (words, or kinds mixed)."""
    from .template import DecimalRange

    if isinstance(domain, range):
        return 0
    if isinstance(domain, DecimalRange):
        return 2
    if not isinstance(domain, list) or not domain:
        return None
    types = {type(v) for v in domain}
    if types == {int}:
        return 0
    if all(isinstance(v, Dec) for v in domain):
        return 2
    return 1 if types == {Fraction} else None


def fraction_names(domains: dict) -> frozenset:
    """The names whose every value is a Fraction (a Dec, a word's number; never an int):
    generated code reads their numerator and denominator in one call
    (``x.as_integer_ratio()``) instead of two properties."""
    from .template import DecimalRange

    return frozenset(name for name, domain in domains.items()
                     if isinstance(domain, DecimalRange) or isinstance(domain, list) and domain
                     and all(isinstance(v, Fraction) for v in domain))


def whole_names(domains: dict) -> frozenset:
    """The names whose values are numbers of which some are not ints (words such as
    'twice'): those ``compile_value`` reads as ints where they are whole."""
    from .template import is_number

    return frozenset(name for name, domain in domains.items()
                     if isinstance(domain, list) and domain
                     and all(is_number(v) for v in domain)
                     and any(type(v) is not int for v in domain))


def shown(value, kind: int) -> str:
    """The text of a value of ``kind`` (computed exact, as ``compile_value`` gives it) as
    ``template.show`` writes the formula language's value: '5', '2.5', '7/3'."""
    if type(value) is int:
        return str(value)
    return str(Fraction(value)) if kind == 1 else plain(value)
