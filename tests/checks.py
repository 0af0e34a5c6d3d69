"""Independent checks of a variant record, used by several test modules.

The worked solution is checked with Python's own ``ast`` over exact Fractions, not with
mathgen's parser, so a bug there cannot hide itself.
"""

from __future__ import annotations

import ast
import operator
import re
from fractions import Fraction

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.FloorDiv: lambda a, b: Fraction(a // b),
        ast.Mod: operator.mod, ast.Pow: operator.pow}


def exact(expr: str) -> Fraction:
    """Exact value of a calculator expression (digits, + - * / // % ** and parentheses)."""
    expr = re.sub(r"(?<![\d.])0+(\d)", r"\1", expr)  # '05' is five, not a syntax error

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            return Fraction(str(node.value))
        if isinstance(node, ast.BinOp):
            return Fraction(_OPS[type(node.op)](walk(node.left), walk(node.right)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):  # '<<+20=20>>'
            return walk(node.operand)
        if isinstance(node, ast.Call) and node.func.id in ("gcd", "lcm", "ceil", "floor"):
            import math

            args = [walk(a) for a in node.args]
            fn = {"gcd": math.gcd, "lcm": math.lcm, "ceil": math.ceil, "floor": math.floor}
            return Fraction(fn[node.func.id](*[int(a) if a.denominator == 1 else a for a in args]))
        raise ValueError(f"unexpected {ast.dump(node)}")

    return walk(ast.parse(expr, mode="eval"))


def annotation_errors(answer: str) -> list[str]:
    """Every <<expr=result>> that is not exactly true."""
    errors = []
    for expr, result in re.findall(r"<<([^<>]*?)=([^<>=]*)>>", answer):
        if exact(expr) != Fraction(result.replace(",", "")):
            errors.append(f"<<{expr}={result}>>")
    return errors


def final_line(answer: str) -> str:
    return re.findall(r"^####\s*(.*?)\s*$", answer, re.MULTILINE)[-1]


def check_variant(record: dict) -> list[str]:
    """What is wrong with a variant record (empty when it is right)."""
    problems = [f"false annotation {a}" for a in annotation_errors(record["answer"])]
    if final_line(record["answer"]) != record["final_answer"]:
        problems.append(f"#### {final_line(record['answer'])} != {record['final_answer']}")
    original, new = Fraction(record["original_final_answer"]), Fraction(record["final_answer"])
    if original >= 0 and original.denominator == 1 and (new < 0 or new.denominator != 1):
        problems.append(f"answer {new} is not a whole number >= 0 like {original}")
    if not record["substitutions"]:
        problems.append("no number changed")
    return problems


def new_values(variant, **unchanged) -> dict:
    """The variant's values by their original text; ``unchanged`` gives the rest
    (``new_values(v, **{"30": 30})["30"]``)."""
    return {k: Fraction(v) for k, v in unchanged.items()} | {
        s["old"]: Fraction(s["new"]) for s in variant.to_json()["substitutions"]}
