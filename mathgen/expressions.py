"""Calculator expressions of worked solutions, parsed without ``eval``.

``parse("16-3-4")`` gives a tree ``("sub", ("sub", ("lit", 0), ("lit", 1)), ("lit", 2))``
and the literals ``[Literal(0, 2, "16", 16), Literal(3, 4, "3", 3), Literal(5, 6, "4", 4)]``.
Trees are nested tuples; leaves are literals by index or named symbols, so one tree can be
evaluated exactly with Fractions, turned into a SymPy expression, or written back as text.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from fractions import Fraction

from mathgen.errors import UnsupportedProblem

_TOKENS = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?|\.\d+)|(?P<op>\*\*|//|[-+*/%^(),])"
                     r"|(?P<name>[A-Za-z_]\w*))")
FUNCTIONS = ("gcd", "lcm", "floor", "ceil")
_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "//": "floordiv", "%": "mod",
           "**": "pow", "^": "pow"}
_MAX_DEPTH = 40
_MAX_LENGTH = 400
_MAX_LITERALS = 60
_ARITY = {"floor": (1, 1), "ceil": (1, 1), "gcd": (2, 8), "lcm": (2, 8)}


@dataclass(frozen=True)
class Literal:
    start: int
    end: int
    text: str
    value: Fraction


def parse(text: str, unknowns: frozenset = frozenset()) -> tuple[tuple, list[Literal]]:
    """Parse an arithmetic expression; raises UnsupportedProblem on anything else.

    Names in ``unknowns`` (the x of an equation) become ``("sym", name)`` leaves.
    """
    tokens: list[tuple[str, str, int, int]] = []
    pos = 0
    stripped = text.rstrip()
    if len(stripped) > _MAX_LENGTH:
        raise UnsupportedProblem("unsupported-expression", f"longer than {_MAX_LENGTH} characters")
    while pos < len(stripped):
        m = _TOKENS.match(stripped, pos)
        if not m or m.end() == pos:
            raise UnsupportedProblem("unsupported-expression", f"cannot read {text!r}")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind), m.start(kind), m.end(kind)))
        pos = m.end()
    literals: list[Literal] = []
    parser = _Parser(tokens, literals, text, unknowns)
    tree = parser.expr(0)
    if len(literals) > _MAX_LITERALS:
        raise UnsupportedProblem("unsupported-expression", f"more than {_MAX_LITERALS} numbers")
    if parser.i != len(tokens):
        raise UnsupportedProblem("unsupported-expression", f"unexpected text in {text!r}")
    return tree, literals


class _Parser:
    def __init__(self, tokens, literals, text, unknowns=frozenset()):
        self.tokens, self.literals, self.text, self.i = tokens, literals, text, 0
        self.unknowns = unknowns

    def _peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None, 0, 0)

    def _fail(self, what):
        raise UnsupportedProblem("unsupported-expression", f"{what} in {self.text!r}")

    def expr(self, depth):
        if depth > _MAX_DEPTH:
            self._fail("nesting too deep")
        node = self.term(depth)
        while self._peek()[1] in ("+", "-"):
            op = self.tokens[self.i][1]
            self.i += 1
            node = (_BINARY[op], node, self.term(depth))
        return node

    def term(self, depth):
        if depth > _MAX_DEPTH:
            self._fail("nesting too deep")
        node = self.unary(depth)
        while self._peek()[1] in ("*", "/", "//", "%"):
            op = self.tokens[self.i][1]
            self.i += 1
            node = (_BINARY[op], node, self.unary(depth))
        return node

    def unary(self, depth):
        if depth > _MAX_DEPTH:
            self._fail("nesting too deep")
        if self._peek()[1] in ("-", "+"):
            op = self.tokens[self.i][1]
            self.i += 1
            inner = self.unary(depth + 1)
            return ("neg", inner) if op == "-" else inner
        return self.power(depth)

    def power(self, depth):
        node = self.atom(depth)
        if self._peek()[1] in ("**", "^"):
            self.i += 1
            node = ("pow", node, self.unary(depth + 1))
        return node

    def atom(self, depth):
        kind, tok, start, end = self._peek()
        if kind == "num":
            self.i += 1
            self.literals.append(Literal(start, end, tok, Fraction(tok)))
            return ("lit", len(self.literals) - 1)
        if tok == "(":
            self.i += 1
            node = self.expr(depth + 1)
            if self._peek()[1] != ")":
                self._fail("unbalanced parentheses")
            self.i += 1
            return node
        if kind == "name" and tok in self.unknowns:
            self.i += 1
            return ("sym", tok)
        if kind == "name" and tok.lower() in FUNCTIONS:
            self.i += 1
            if self._peek()[1] != "(":
                self._fail(f"{tok} without arguments")
            self.i += 1
            args = [self.expr(depth + 1)]
            while self._peek()[1] == ",":
                self.i += 1
                args.append(self.expr(depth + 1))
            if self._peek()[1] != ")":
                self._fail("unbalanced parentheses")
            self.i += 1
            low, high = _ARITY[tok.lower()]
            if not low <= len(args) <= high:
                self._fail(f"{tok} takes {low} to {high} arguments")
            return ("call", tok.lower(), tuple(args))
        self._fail(f"unexpected {tok!r}" if tok else "unexpected end")


def sym(name: str) -> tuple:
    return ("sym", name)


def const(value: Fraction) -> tuple:
    return ("const", Fraction(value))


def substitute(tree: tuple, leaves: list) -> tuple:
    """Replace literal leaves by the trees in ``leaves`` (by literal index)."""
    if tree[0] == "lit":
        return leaves[tree[1]]
    if tree[0] in ("sym", "const"):
        return tree
    if tree[0] == "call":
        return ("call", tree[1], tuple(substitute(a, leaves) for a in tree[2]))
    return (tree[0],) + tuple(substitute(a, leaves) for a in tree[1:])


def divisor_literals(tree: tuple) -> set[int]:
    """Indices of the literals that something is divided by (the 2 of 'x/2', 'x/(2)')."""
    out: set[int] = set()
    if tree[0] in ("div", "floordiv") and tree[2][0] == "lit":
        out.add(tree[2][1])
    args = tree[2] if tree[0] == "call" else tree[1:]
    for a in args:
        if isinstance(a, tuple):
            out |= divisor_literals(a)
    return out


def operand_roles(tree: tuple) -> dict[int, set[str]]:
    """For each literal that is an operand of an arithmetic node, its roles: 'added' (of a
    sum or difference), 'dividend' or 'divisor'."""
    out: dict[int, set[str]] = {}
    roles = {"add": ("added", "added"), "sub": ("added", "added"),
             "div": ("dividend", "divisor")}.get(tree[0])
    if roles:
        for role, arg in zip(roles, tree[1:]):
            if arg[0] == "lit":
                out.setdefault(arg[1], set()).add(role)
    args = tree[2] if tree[0] == "call" else tree[1:]
    for a in args:
        if isinstance(a, tuple):
            for k, found in operand_roles(a).items():
                out.setdefault(k, set()).update(found)
    return out


def subtrees(tree: tuple):
    """The tree and every tree inside it, outermost first."""
    yield tree
    args = tree[2] if tree[0] == "call" else tree[1:]
    for a in args:
        if isinstance(a, tuple):
            yield from subtrees(a)


_FAMILY = {"add": ("add", "sub"), "sub": ("add", "sub"), "mul": ("mul", "div"),
           "div": ("mul", "div")}


def parts(tree: tuple):
    """What a writer may work out on the way: every subtree, and every run of a chain of
    one kind of operation that a bracket could hold ('4*60/5' has 60/5; '30-8-2' has 8+2,
    its sign turned, as in 30 - (8 + 2))."""
    yield from subtrees(tree)
    for node in subtrees(tree):
        family = _FAMILY.get(node[0])
        if family is None:
            continue
        items = []  # the chain down the left side: [(op, operand)], the first op None
        while node[0] in family:
            items.append((node[0], node[2]))
            node = node[1]
        items.append((None, node))
        items.reverse()
        for i in range(1, len(items) - 1):
            turned = items[i][0] == family[1]  # the run starts with '-' or '/'
            for j in range(i + 2, len(items) + 1):
                run = items[i][1]
                for op, operand in items[i + 1:j]:
                    run = ((family[0] if op == family[1] else family[1]) if turned else op,
                           run, operand)
                yield run


def parts_valued(tree: tuple, values, value) -> set[tuple]:
    """The ``parts`` of a tree over literals of ``values`` that are worth ``value``."""
    found = set()
    for part in parts(tree):
        try:
            if evaluate_literals(part, values) == value:
                found.add(part)
        except (ZeroDivisionError, ValueError, OverflowError):
            continue
    return found


def substitute_symbols(tree: tuple, trees: dict[str, tuple]) -> tuple:
    """Replace symbol leaves by the trees named in ``trees``."""
    if tree[0] == "sym":
        return trees.get(tree[1], tree)
    if tree[0] in ("lit", "const"):
        return tree
    if tree[0] == "call":
        return ("call", tree[1], tuple(substitute_symbols(a, trees) for a in tree[2]))
    return (tree[0],) + tuple(substitute_symbols(a, trees) for a in tree[1:])


def size(tree: tuple) -> int:
    """Number of nodes of a tree."""
    if tree[0] in ("sym", "const", "lit"):
        return 1
    args = tree[2] if tree[0] == "call" else tree[1:]
    return 1 + sum(size(a) for a in args)


def symbols(tree: tuple) -> set[str]:
    """Names of the symbol leaves of a tree."""
    if tree[0] == "sym":
        return {tree[1]}
    if tree[0] in ("lit", "const"):
        return set()
    args = tree[2] if tree[0] == "call" else tree[1:]
    return set().union(*(symbols(a) for a in args))


_PY_OPS = {"add": "+", "sub": "-", "mul": "*", "mod": "%"}


def to_python(tree: tuple, consts: dict | None = None) -> str:
    """Python source evaluating ``tree`` exactly over Fractions.

    Leaves: ``("sym", name)`` becomes the name, ``("const", Fraction)`` a Fraction literal,
    or, when ``consts`` is given, a name registered there (so hot code builds no Fractions).
    Values may be ints or Fractions: sums and products of ints stay ints (fast), and
    division goes through ``_div``, which is exact either way.
    """
    op = tree[0]
    if op == "sym":
        return tree[1]
    if op == "const":
        v = tree[1]
        if consts is not None:
            return consts.setdefault(v, f"_c{len(consts)}")
        if v.denominator == 1:  # an int: whole arithmetic stays fast
            return str(v.numerator) if v.numerator >= 0 else f"({v.numerator})"
        return f"_F({v.numerator},{v.denominator})"
    if op == "neg":
        return f"(-{to_python(tree[1], consts)})"
    if op == "pow":
        return f"_pow({to_python(tree[1], consts)},{to_python(tree[2], consts)})"
    if op == "call":
        return f"_{tree[1]}({','.join(to_python(a, consts) for a in tree[2])})"
    if op == "lit":
        raise ValueError("unbound literal")
    if op in ("div", "floordiv"):
        name = "_div" if op == "div" else "_fdiv"
        return f"{name}({to_python(tree[1], consts)},{to_python(tree[2], consts)})"
    return f"({to_python(tree[1], consts)}{_PY_OPS[op]}{to_python(tree[2], consts)})"


def _div(a, b):
    if type(a) is int and type(b) is int:
        q, r = divmod(a, b)
        return q if r == 0 else Fraction(a, b)
    # over numerators and denominators: one Fraction built at most (ints or Fractions)
    try:
        n, d = a.numerator * b.denominator, a.denominator * b.numerator
    except AttributeError:  # not a number (a result that could not be worked out)
        raise TypeError(f"cannot divide {a!r} by {b!r}") from None
    if d == 0:
        raise ZeroDivisionError("division by zero")
    q, r = divmod(n, d)
    return q if r == 0 else Fraction(n, d)  # ints keep later arithmetic fast


def _pow(base, exp):
    base = Fraction(base)
    if Fraction(exp).denominator != 1 or abs(exp) > 64 \
            or max(base.numerator.bit_length(), base.denominator.bit_length()) * abs(exp) > 4096:
        raise ValueError("only small whole powers are exact")
    return base ** int(exp)


def _whole(x):
    x = Fraction(x)
    if x.denominator != 1:
        raise ValueError("gcd and lcm take whole numbers")
    return int(x)


def _gcd(*args):
    return Fraction(math.gcd(*(_whole(a) for a in args)))


def _lcm(*args):
    return Fraction(math.lcm(*(_whole(a) for a in args)))


RUNTIME = {"_F": Fraction, "_div": _div, "_pow": _pow, "_gcd": _gcd, "_lcm": _lcm,
           "_fdiv": lambda a, b: int(a // b), "_floor": math.floor, "_ceil": math.ceil}


def random_point(names, seed: int) -> dict:
    """An evaluation environment giving each name its own random value (by name, so the same
    name gets the same value whichever other names are present)."""
    env = dict(RUNTIME)
    for name in names:
        env[name] = _point(name, seed)
    return env


@functools.lru_cache(maxsize=4096)
def _point(name: str, seed: int) -> int | Fraction:
    import random

    rng = random.Random(f"{seed}/{name}")
    value = Fraction(rng.randint(101, 99991), rng.choice((1, 1, 7)))
    return value.numerator if value.denominator == 1 else value  # ints: fast arithmetic


@functools.lru_cache(maxsize=8192)
def compiled(source: str):
    """``source`` (from ``to_python``) compiled for ``eval``, once per source: a problem built
    again (two numbers tied) evaluates the same trees."""
    return compile(source, "<expr>", "eval")


def evaluate(tree: tuple, values: dict[str, Fraction] | None = None) -> Fraction:
    """Exact value of a tree whose leaves are symbols (looked up in ``values``) or constants."""
    try:
        code = compiled(to_python(tree))
    except (SyntaxError, RecursionError, MemoryError):
        raise UnsupportedProblem("unsupported-expression", "too deeply nested") from None
    return Fraction(eval(code, dict(RUNTIME), dict(values or {})))  # noqa: S307 - our own tree


def evaluate_literals(tree: tuple, values) -> Fraction:
    """Exact value of a tree whose literal leaves take ``values`` (by index)."""
    return evaluate(substitute(tree, [const(v) for v in values]))


def to_sympy(tree: tuple):
    """The tree as a SymPy expression (symbols by name, constants as Rationals)."""
    import sympy

    op = tree[0]
    if op == "sym":
        return sympy.Symbol(tree[1])
    if op == "const":
        return sympy.Rational(tree[1].numerator, tree[1].denominator)
    if op == "neg":
        return -to_sympy(tree[1])
    if op == "call":
        args = [to_sympy(a) for a in tree[2]]
        fn = {"floor": sympy.floor, "ceil": sympy.ceiling}.get(tree[1])
        return fn(*args) if fn else sympy.Function(tree[1])(*args)
    a, b = to_sympy(tree[1]), to_sympy(tree[2])
    return {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
            "div": lambda: a / b, "pow": lambda: a ** b, "floordiv": lambda: sympy.floor(a / b),
            "mod": lambda: sympy.Mod(a, b)}[op]()
