"""Which numbers an equation fixes, read from its syntax tree where the tree makes it plain.

``template.find_derived`` solves for a number that an equation of the constraints holds
linearly, with a slope that is neither zero nor dependent on it, and outside every function
call. SymPy decides that for any equation, but importing it costs a fifth of a second and
leaves some 140,000 objects that every full garbage collection of the process walks again.
Most equations of templates are plain sums and products (``n12 == n1 + n2 + k``,
``ans == n - n1 * w1 - int(n3 * w3)``), where the answer can be read off the tree::

    k appears once, under + and - only           -> linear, slope +-1
    w1 appears once, times n1 (a name)          -> linear, slope -n1, which is not zero
    w3 appears inside int(...)                  -> never solved for

A number inside a call or a remainder (SymPy's ``Mod``, a function too) is never solved
for. Anything less plain (a name twice, a power, a division by the number, a function
SymPy knows such as ``floor``, a comparison) is left to SymPy: ``linear_names`` returns
None.
"""

from __future__ import annotations

import ast
import math

# calls that SymPy turns into its own functions or relations (formulas._to_sympy)
_SYMPY_CALLS = {"floor", "ceil", "abs", "min", "max", "Fraction", "is_int", "divides"}


def linear_names(equation: ast.Compare, names) -> list[str] | None:
    """The names of ``names`` that ``equation`` (``left == right``) holds linearly, with a
    slope free of them and not zero, outside every call; None where the tree does not
    make that plain."""
    sides = (equation.left, equation.comparators[0])
    if not all(_plain(side) for side in sides):
        return None
    out = []
    for name in sorted(names):
        paths = [p for side in sides for p in _paths(side, name, [])]
        if len(paths) != 1:  # twice could cancel or multiply: SymPy decides
            return None
        path = paths[0]
        if any(isinstance(node, ast.Call) or isinstance(node, ast.BinOp)
               and isinstance(node.op, ast.Mod) for node, _ in path):
            continue  # inside a call or a remainder (SymPy's Mod): never solved for
        if not all(_keeps_slope(node, child) for node, child in path):
            return None
        out.append(name)
    return out


def _plain(node) -> bool:
    """Numbers, names, + - * / %, signs and calls SymPy leaves as they are."""
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Constant):
        value = node.value
        return not isinstance(value, bool) and isinstance(value, (int, float)) \
            and math.isfinite(value)
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod)) \
            and _plain(node.left) and _plain(node.right)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (ast.USub, ast.UAdd)) and _plain(node.operand)
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id not in _SYMPY_CALLS \
            and not node.keywords and all(_plain(a) and not isinstance(a, ast.Starred)
                                          for a in node.args)
    return False


def _paths(node, name: str, above: list):
    """Each occurrence of ``name`` as the list of (ancestor, the child leading to it)."""
    if isinstance(node, ast.Name):
        if node.id == name:
            yield above
        return
    for child in ast.iter_child_nodes(node):
        yield from _paths(child, name, above + [(node, child)])


def _keeps_slope(node, child) -> bool:
    """Whether ``node`` passes a linear term of ``child`` on with a slope that is not zero:
    a sum, a sign, a product with a factor that is never zero, a quotient by one."""
    if isinstance(node, ast.UnaryOp):
        return True
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return True
        other = node.right if child is node.left else node.left
        if isinstance(node.op, ast.Mult):
            return _never_zero(other)
        return isinstance(node.op, ast.Div) and child is node.left and _never_zero(other)
    return False


def _never_zero(node) -> bool:
    """A product of names, calls and numbers other than 0: never zero as an expression."""
    if isinstance(node, (ast.Name, ast.Call)):
        return True
    if isinstance(node, ast.Constant):
        return node.value != 0
    if isinstance(node, ast.UnaryOp):
        return _never_zero(node.operand)
    return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)) \
        and _never_zero(node.left) and _never_zero(node.right)
