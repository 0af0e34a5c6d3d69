"""Normal forms of reasoning paths: two paths that differ only in names, comments, docstrings
or layout get the same normal form, so exact duplicates are found with a dict.

    normal_form("```python\\neggs = 16 - 3  # left\\nprint(eggs)\\n```\\n```output\\n13\\n```"
                "\\nShe has $\\\\boxed{13}$.", "13")
    # 'v0 = 16 - 3\\nprint(v0)\\n#answer 13'

Each code block is parsed, its docstrings and other bare string statements are dropped (as
ast drops comments), the names it binds (variables, functions, classes, parameters, loop and
exception targets) are renamed ``v0, v1, ...`` in order of first appearance, and it is printed
back with ``ast.unparse``. Names it only reads (builtins, imported modules and functions,
attributes) keep their names, so ``math.sqrt`` and ``sympy.sqrt`` stay apart. A path's normal
form is its blocks' forms and its final answer; the prose between blocks is not part of it. A
path without code is its text with whitespace collapsed. A block that does not parse keeps
its text, without comment lines and with whitespace collapsed.

Blocks are renamed one by one (each starts again at ``v0``), so a block's form depends on its
text only and is computed once per distinct text (``BlockForms`` remembers them).
"""

from __future__ import annotations

import ast
import keyword
import re
import unicodedata
from dataclasses import dataclass

_STEP = re.compile(r"```python[ \t]*\n(.*?)```(?:[ \t]*\n?```output[ \t]*\n(.*?)```)?", re.DOTALL)
_OPEN = re.compile(r"```python")
_SCOPES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_MAX_DEPTH = 100  # deeper trees are not unparsed (see normalise_code)


@dataclass(frozen=True)
class Step:
    code: str
    output: str | None  # the recorded ```output``` block, None when the path has none


def steps(text: str) -> tuple[list[Step], bool]:
    """The code blocks of a path with their recorded outputs, and whether every block that was
    opened is complete (a path cut off inside a block is not)."""
    found = [Step(m.group(1), None if m.group(2) is None else m.group(2).strip("\n"))
             for m in _STEP.finditer(text)]
    complete = len(_OPEN.findall(text)) == len(found)
    return found, complete


def _strip_strings(body: list) -> list:
    kept = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                    and isinstance(s.value.value, str))]
    return kept or [ast.Pass()]


def normalise_code(code: str) -> str:
    """The normal form of one code block (see the module doc)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        lines = (ln.split("#", 1)[0] if ln.lstrip().startswith("#") else ln
                 for ln in code.splitlines())
        return " ".join(" ".join(lines).split())
    first: dict[str, tuple[int, int]] = {}
    bound: set[str] = set()
    uses: list[tuple[object, str, str]] = []  # (node, attribute, name)
    declared: list = []  # global and nonlocal statements
    stack: list = [(tree, 0)]
    deepest = 0
    while stack:  # every node once; faster than ast.walk, and skips the ctx singletons
        node, depth = stack.pop()
        fields = getattr(node, "_fields", None)
        if fields is None:  # a name in a list of names, or a None dict key
            continue
        if depth > deepest:
            deepest = depth
        kind = type(node)
        if kind is ast.Name:
            attr, binds = "id", type(node.ctx) is not ast.Load
        elif kind is ast.arg:
            attr, binds = "arg", True
        elif kind in _DEFS or (kind is ast.ExceptHandler and node.name):
            attr, binds = "name", True
        else:
            attr = None
            if kind is ast.Global or kind is ast.Nonlocal:
                declared.append(node)
            elif kind in _SCOPES:
                node.body = _strip_strings(node.body)
        if attr is not None:
            name = getattr(node, attr)
            uses.append((node, attr, name))
            pos = (node.lineno, node.col_offset)
            if name not in first or pos < first[name]:
                first[name] = pos
            if binds:
                bound.add(name)
            if kind in _DEFS:
                node.body = _strip_strings(node.body)
        depth += 1
        for f in fields:
            if f != "ctx":
                value = getattr(node, f, None)
                if type(value) is list:
                    stack.extend([(v, depth) for v in value])
                elif isinstance(value, ast.AST):
                    stack.append((value, depth))
    if deepest > _MAX_DEPTH:
        # ast.unparse recurses: whether it would fail depends on the caller's stack, and the
        # form must not, so trees this deep keep their text
        return " ".join(code.split())
    order = sorted(bound, key=lambda n: (first[n], n))
    names = {name: f"v{i}" for i, name in enumerate(order)}
    for node, attr, name in uses:
        if name in names:
            setattr(node, attr, names[name])
    for node in declared:
        node.names = [names.get(n, n) for n in node.names]
    return ast.unparse(tree)


# one lexeme of Python source: enough to find every identifier outside strings and comments
_LEXEME = re.compile(r'''
    (?P<fstring>\b(?:[fF][rR]?|[rR][fF])["'])
  | (?:\b[rRbBuU]{1,2})?(?:"""(?:\\[\s\S]|[^\\])*?"""|\'\'\'(?:\\[\s\S]|[^\\])*?\'\'\'
                          |"(?:\\[\s\S]|[^"\\\r\n])*"|'(?:\\[\s\S]|[^'\\\r\n])*')
  | \#[^\r\n]*
  | \.?\d[\w.]*
  | (?P<name>[^\W\d]\w*)
''', re.VERBOSE)
_MARK = "\u014b"  # a letter, so '_\u014b3' is an identifier; a text that holds it skips the cache
_HOLE = re.compile("_\u014b(\\d+)")
_KEEP = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)


def _skeleton(code: str) -> tuple[str, list[str]] | None:
    """The code with its i-th distinct identifier written ``_\u014bi`` (keywords kept), and
    the identifiers; None for code with f-strings (names inside strings) or the mark itself."""
    if _MARK in code:
        return None
    plain = code.isascii()
    names: dict[str, int] = {}
    parts: list[str] = []
    end = last = 0
    for m in _LEXEME.finditer(code):
        # outside ASCII, Python reads names through NFKC ('ﬁ' is 'fi') and some word
        # characters cannot be in a name ('x²'): such code is normalised directly
        if not plain and not code[last:m.start()].isascii():
            return None
        last = m.end()
        word = m.group("name")
        if word is None:
            if m.group("fstring") is not None:
                return None
            continue
        if word in _KEEP:
            continue
        if not plain and not word.isascii() and (
                not word.isidentifier() or unicodedata.normalize("NFKC", word) != word):
            return None
        index = names.setdefault(word, len(names))
        parts += (code[end:m.start()], f"_{_MARK}{index}")
        end = m.end()
    if not plain and not code[last:].isascii():
        return None
    parts.append(code[end:])
    return "".join(parts), list(names)


class BlockForms:
    """``normalise_code``, remembered per skeleton: blocks that differ only in their
    identifiers (the renamed duplicates the recipe is after) are parsed once.

    A block's form is its skeleton's form with each placeholder that is left (an identifier
    the block reads but never binds) written back as the identifier it stands for; the names
    it binds are ``v0, v1, ...`` in order of first appearance either way. That holds because
    which identifiers a block binds, and where each first appears, is decided by the syntax
    around them, which the skeleton keeps whole. Blocks with f-strings, whose names hide in a
    string, are normalised directly.
    """

    def __init__(self, limit: int = 20_000):
        self.limit, self._forms = limit, {}

    def __call__(self, code: str) -> str:
        found = _skeleton(code)
        if found is None:
            return normalise_code(code)
        key, names = found
        form = self._forms.get(key)
        if form is None:
            if len(self._forms) >= self.limit:
                self._forms.clear()
            form = self._forms[key] = normalise_code(key)
        return _HOLE.sub(lambda m: names[int(m.group(1))], form)


_FORMS = BlockForms()


def normal_form(text: str, answer: str, forms: BlockForms = _FORMS) -> str:
    """The normal form of a whole path: its blocks' forms and its final answer."""
    found, _ = steps(text)
    if not found:
        return " ".join(text.split()) + "\n#answer " + answer
    return "\n#--\n".join(forms(s.code) for s in found) + "\n#answer " + answer
