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
from mathgen.formulas import Formula, _arith

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
            ast.GtE: ">="}
# what a broken formula raises while it runs: the formula language turns each into an
# EvalError, which a condition reads as broken
_FAILS = (MathgenError, ZeroDivisionError, KeyError, TypeError, ValueError, OverflowError,
          IndexError, ArithmeticError)


def _div(a, b):
    return Fraction(a) / b  # exact, as the formula language divides


def _pow(a, b):
    return _arith("**", a, b)


class _Unsupported(Exception):
    pass


class _Writer:
    def __init__(self, functions: dict[str, Callable]):
        self.functions, self.consts = functions, {}

    def const(self, value) -> str:
        name = f"_c{len(self.consts)}"
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
            return f"_e[{node.id!r}]"
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
            fn = self.const(self.functions[name])
            return f"{fn}({', '.join(self.write(a) for a in node.args)})"
        raise _Unsupported


def compile_value(formula: Formula) -> Callable | None:
    """``env -> value`` of ``formula`` as an int or Fraction (raising as it would), or None
    when the formula holds something that is not compiled."""
    writer = _Writer(formula.functions)
    try:
        body = writer.write(formula.tree)
    except _Unsupported:
        return None
    scope = {"_div": _div, "_pow": _pow, "__builtins__": {"bool": bool}, **writer.consts}
    # our own source, written from a parsed and whitelisted tree: no text of the file is run
    return eval(compile(f"lambda _e: {body}", f"<{formula.text}>", "eval"), scope)  # noqa: S307


def compile_check(formula: Formula) -> Callable:
    """``env -> bool``: whether the condition holds; a formula that fails to evaluate (a
    division by zero) does not hold. Formulas that are not compiled are called as written."""
    run = compile_value(formula) or formula

    def check(env):
        try:
            return bool(run(env))
        except _FAILS:
            return False
    return check
