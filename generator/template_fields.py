"""The front matter of a templatized file, field by field, as a person may edit it.

Every key is known (an unknown one, often a typo such as ``rnage``, is an error naming the
file, its line and the keys that are known, rather than an edit silently ignored), and each
field says where it is wrong::

    gsm8k-templates/test-1.jinja:7: field 'variables.n0.rnage': unknown key 'rnage'
    (hint: did you mean 'range'? known keys: default, places, ...)

``constraints:`` is a list of comparisons over the variables and steps, each a formula or a
mapping with the reason a rejection gives::

    constraints:
    - n1 + n2 <= n0
    - {holds: s1 >= n3, why: the group a rate is given for stays within the herd}
"""

from __future__ import annotations

import ast
import difflib
from fractions import Fraction
from pathlib import Path

from .domains import DOMAIN_KEYS, Domain
from .template import TemplateError

TOP_KEYS = ("form", "source", "variables", "steps", "answer", "constraints", "pinned", "same",
            "order", "parts")
SOURCE_KEYS = ("id", "line", "format")
VARIABLE_KEYS = ("default", "places", "percent", "upper", "cents", "derived") + DOMAIN_KEYS
CONSTRAINT_KEYS = ("holds", "why")
# a comparison as (whole, part, strict): the part stays at most (strict: below) the whole
_COMPARISONS = {ast.GtE: (0, 1, False), ast.Gt: (0, 1, True), ast.LtE: (1, 0, False),
                ast.Lt: (1, 0, True)}


class Fields:
    """Where each field of one front matter is (its line in the file), for errors."""

    def __init__(self, path: Path, front: str):
        import yaml

        self.path, self.lines = path, {}
        try:
            root = yaml.compose(front)
        except yaml.YAMLError:  # already reported by the loader that parsed it
            root = None
        if root is not None:
            self._walk(root, ())

    def _walk(self, node, path: tuple) -> None:
        import yaml

        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = path + (str(key.value),)
                self.lines[here] = key.start_mark.line + 2  # the front matter starts on line 2
                self._walk(value, here)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.lines[path + (i,)] = item.start_mark.line + 2
                self._walk(item, path + (i,))

    def where(self, *field) -> str:
        """'file:line: field 'a.b'' for a field (the line of its closest known parent)."""
        line, probe = 1, tuple(field)
        while probe:
            if probe in self.lines:
                line = self.lines[probe]
                break
            probe = probe[:-1]
        name = ".".join(str(f) if isinstance(f, str) else f"[{f}]" for f in field)
        return f"{self.path}:{line}: field '{name.replace('.[', '[')}'"

    def error(self, field: tuple, message: str, hint: str | None = None) -> TemplateError:
        text = f"{self.where(*field)}: {message}"
        return TemplateError(text + (f" (hint: {hint})" if hint else ""))

    def check_keys(self, mapping, field: tuple, known: tuple[str, ...]) -> None:
        """A TemplateError naming the first key of ``mapping`` that is not ``known``."""
        if not isinstance(mapping, dict):
            raise self.error(field, "must be a mapping", f"keys: {', '.join(known)}")
        for key in mapping:
            if str(key) not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                guess = f"did you mean {close[0]!r}? " if close else ""
                raise self.error(field + (str(key),), f"unknown key {str(key)!r}",
                                 f"{guess}known keys: {', '.join(known)}")


def number(x, fields: Fields, field: tuple) -> Fraction:
    if isinstance(x, bool) or not isinstance(x, (int, float, str)):
        raise fields.error(field, f"{x!r} is not a number", "write 12, 2.5 or 1/3")
    try:
        return Fraction(str(x).strip())
    except (ValueError, ZeroDivisionError):
        raise fields.error(field, f"{x!r} is not a number", "write 12, 2.5 or 1/3") from None


def domain(spec: dict, fields: Fields, field: tuple, default: Fraction) -> Domain | None:
    """The domain a variable's spec gives (``range`` with ``step``, or ``choice``), which must
    hold its default; None when it gives none."""
    if "range" in spec and "choice" in spec:
        raise fields.error(field + ("choice",), "a number has a range or a choice, not both")
    if "step" in spec and "range" not in spec:
        raise fields.error(field + ("step",), "a step belongs to a range",
                           "range: [10, 20], step: 2")
    if "range" in spec:
        bounds = spec["range"]
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise fields.error(field + ("range",), f"{bounds!r} is not [low, high]",
                               "range: [10, 20] (both included)")
        low, high = (number(b, fields, field + ("range",)) for b in bounds)
        step = number(spec.get("step", 1), fields, field + ("step",))
        try:
            out = Domain.of_range(low, high, step)
        except ValueError as err:
            raise fields.error(field + ("range",), str(err)) from None
        shown = f"range [{low}, {high}]" + (f" by {step}" if step != 1 else "")
    elif "choice" in spec:
        values = spec["choice"]
        if not isinstance(values, list):
            raise fields.error(field + ("choice",), f"{values!r} is not a list",
                               "choice: [3, 4, 6]")
        try:
            out = Domain.of_choices(tuple(number(v, fields, field + ("choice",))
                                          for v in values))
        except ValueError as err:
            raise fields.error(field + ("choice",), str(err)) from None
        shown = "choice [" + ", ".join(str(v) for v in out.choices) + "]"
    else:
        return None
    if default not in out:
        raise fields.error(field + ("range" if "range" in spec else "choice",),
                           f"the default {default} lies outside the {shown}",
                           "the default is the number the question writes; the domain must "
                           "hold it (edit both to change the original)")
    return out


def names(raw, fields: Fields, key: str, known: set[str], width: int) -> tuple:
    """The names of ``pinned:`` (``width`` 1: a list of steps), ``same:`` (a mapping of
    later to earlier step), ``order:`` or ``parts:`` (lists of pairs), each one ``known``."""
    if raw is None:
        return ()
    if key == "same" and isinstance(raw, dict):
        raw = list(raw.items())
    if not isinstance(raw, list):
        raise fields.error((key,), "must be a list" if key != "same" else "must be a mapping")
    out = []
    for i, item in enumerate(raw):
        item = [item] if width == 1 else item
        if not isinstance(item, (list, tuple)) or len(item) != width:
            raise fields.error((key, i), f"{item!r} is not a pair of names")
        unknown = sorted(str(x) for x in item if str(x) not in known)
        if unknown:
            raise fields.error((key, i) if key != "same" else (key, str(item[0])),
                               f"unknown name {unknown[0]!r}",
                               f"one of {', '.join(sorted(known)) or 'none'}")
        out.append(str(item[0]) if width == 1 else tuple(str(x) for x in item))
    return tuple(out)


def constraints(raw, fields: Fields, names: set[str], env: dict, tree_of) -> tuple:
    """The (whole, part, why, strict) bounds of ``constraints:``, each holding at the
    defaults ``env``. ``tree_of(text, where)``: a formula's tree (``templatize.formula_tree``).
    """
    from mathgen.expressions import evaluate, symbols

    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise fields.error(("constraints",), "must be a list of comparisons",
                           "constraints: [n1 + n2 <= n0]")
    out = []
    for i, item in enumerate(raw):
        field = ("constraints", i)
        why = None
        if isinstance(item, dict):
            fields.check_keys(item, field, CONSTRAINT_KEYS)
            if "holds" not in item:
                raise fields.error(field, "a constraint mapping needs 'holds'",
                                   "{holds: n1 <= n0, why: a part stays within the whole}")
            why = item.get("why")
            item = item["holds"]
        text = str(item).strip()
        try:
            node = ast.parse(text, mode="eval").body
        except SyntaxError:
            node = None
        if not isinstance(node, ast.Compare) or len(node.ops) != 1 \
                or type(node.ops[0]) not in _COMPARISONS:
            raise fields.error(field, f"{text!r} is not one comparison",
                               "compare two formulas with <, <=, > or >=: n1 + n2 <= n0")
        sides = [tree_of(ast.get_source_segment(text, side), fields.where(*field))
                 for side in (node.left, node.comparators[0])]
        unknown = sorted(set().union(*(symbols(s) for s in sides)) - names)
        if unknown:
            raise fields.error(field, f"unknown variable {unknown[0]!r} in {text!r}",
                               "use the names under variables: and steps:")
        w, p, strict = _COMPARISONS[type(node.ops[0])]
        whole, part = sides[w], sides[p]
        left = evaluate(whole, env) - evaluate(part, env)
        if left < 0 or strict and left == 0:
            raise fields.error(field, f"{text!r} does not hold at the defaults",
                               "the defaults are the original problem; a constraint must "
                               "hold there")
        out.append((whole, part, str(why) if why is not None else f"{text} must hold", strict))
    return tuple(out)
