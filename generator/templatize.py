"""``mathgen templatize``: the symbolic form of a problem, written as a template a person can
read and edit, and read back into the same symbolic form.

For GSM8K test:1 ("Janet's ducks lay 16 eggs per day...") the file reads::

    ---
    form: symbolic
    source: {id: 'test:1', line: 1, format: gsm8k}
    variables:
      n0: {default: 16}
      n1: {default: 3}
      ...
    steps:
      s0: n0 - n1 - n2
      s1: s0 * n3
    answer: s1
    ---
    Janet’s ducks lay {{ v("n0", "16") }} eggs per day. She eats {{ v("n1", "three") }} ...
    ---
    Janet sells {{ v("n0", "16") }} - {{ v("n1", "3") }} - ... = $<<...>>{{ v("s1", "18",
    "result") }} ...
    #### {{ v("s1", "18", "final") }}

``v(formula, written, role, style)`` marks a number: the formula computing it, how the original
wrote it, and, in the solution, its role (literal, result, prose, final) and style. Rendering
the file gives back the original problem; perturbing it runs the same draws, constraints and
rendering as perturbing the source, so the same seed gives the same variants, byte for byte.
Variables without a domain take their values from ``--strategy``, as the source's numbers do.
The bounds the story gives (a group a rate is given for within the count of those things,
what is found or lost within what there was) are written under ``constraints:``, so the file
is drawn under every constraint its source is.

A person may edit the file: a domain (``n0: {default: 16, range: [10, 20]}``, ``step``,
``choice``; ``generator.domains``), a comparison added under ``constraints:``, a step, the
wording; the instances then follow the edit. Unknown keys and names are errors naming their
line (``generator.template_fields``).
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction
from pathlib import Path

from mathgen.formulas import FormulaError, parse
from mathgen.numbers import Mention, find_mentions, plain
from mathgen.records import Problem

from .symbolic import Slot, Step, SymbolicProblem, Variable
from .template import TemplateError

_MARK = re.compile(r"\x00(\d+)\x01(.*?)\x02", re.DOTALL)
_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "floordiv": 2, "mod": 2, "neg": 3, "pow": 4}
_OPS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "mod": "%", "pow": "**"}
_AST_OPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
            ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow"}


def formula_text(tree: tuple) -> str:
    """An expression tree as a formula ('n0 - n1 - n2', 's0 * Fraction(1, 3)')."""
    op = tree[0]
    if op == "sym":
        return tree[1]
    if op == "const":
        v = tree[1]
        text = plain(v) if "/" not in plain(v) else f"Fraction({v.numerator}, {v.denominator})"
        return f"({text})" if v < 0 else text
    if op == "call":
        return f"{tree[1]}({', '.join(formula_text(a) for a in tree[2])})"
    if op == "neg":
        inner = formula_text(tree[1])
        return f"-({inner})" if _PREC.get(tree[1][0], 9) < 4 else f"-{inner}"
    left, right = formula_text(tree[1]), formula_text(tree[2])
    p = _PREC[op]
    # the parser reads left to right, so a right operand of the same precedence keeps its
    # parentheses, and the tree read back is the tree written
    if _PREC.get(tree[1][0], 9) < p or (op == "pow" and tree[1][0] in _PREC):
        left = f"({left})"
    if _PREC.get(tree[2][0], 9) <= p:
        right = f"({right})"
    return f"{left} {_OPS[op]} {right}"


def formula_tree(text: str, where: str) -> tuple:
    """The expression tree of a formula ('n0 - n1' -> ('sub', ('sym','n0'), ('sym','n1')))."""
    try:
        formula = parse(text)  # the whitelist first: anything else is a FormulaError
    except FormulaError as err:
        raise TemplateError(f"{where}: {err}") from None

    def walk(node):
        if isinstance(node, ast.BinOp) and type(node.op) in _AST_OPS:
            return (_AST_OPS[type(node.op)], walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return ("neg", walk(node.operand))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            return walk(node.operand)
        if isinstance(node, ast.Name):
            return ("sym", node.id)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return ("const", Fraction(ast.get_source_segment(formula.text, node)))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [walk(a) for a in node.args]
            if node.func.id == "Fraction" and all(a[0] == "const" for a in args) and args:
                return ("const", Fraction(args[0][1], args[1][1] if len(args) > 1 else 1))
            if node.func.id in ("floor", "ceil", "gcd", "lcm"):
                return ("call", node.func.id, tuple(args))
        raise TemplateError(f"{where}: {ast.unparse(node)!r} cannot be part of a step "
                            "(steps use + - * / // % **, floor, ceil, gcd, lcm and numbers)")

    return walk(formula.tree)


def _style(m: Mention | None) -> str:
    if m is None:
        return ""
    flags = [m.kind] + [f for f in ("percent", "money", "commas", "capitalized") if getattr(m, f)]
    return ",".join(flags + [f"places={m.places}"] if m.places else flags)


def _mention(style: str, text: str) -> Mention | None:
    if not style:
        return None
    parts = style.split(",")
    places = next((int(p[7:]) for p in parts if p.startswith("places=")), 0)
    return Mention(0, len(text), text, Fraction(0), parts[0], "percent" in parts,
                   "money" in parts, "commas" in parts, places, "capitalized" in parts)


def _call(*args) -> str:
    return "{{ v(" + ", ".join(_quote(a) for a in args) + ") }}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(text: str) -> str:
    if "{" in text or "}" in text:
        return "{% raw %}" + text.replace("{% endraw %}", "") + "{% endraw %}"
    return text


def write(symbolic: SymbolicProblem) -> str:
    """The template file of a symbolic problem."""
    import yaml

    problem = symbolic.problem
    if "\n---" in problem.question or "\n---" in problem.solution:
        raise TemplateError(f"{problem.source_id}: a line '---' in the text cannot be written")
    owner = {i: v.name for v in symbolic.variables for i in v.mentions}
    pieces, pos = [], 0
    for i, m in enumerate(symbolic.mentions):
        if i in owner:
            pieces += [_literal(problem.question[pos:m.start]), _call(owner[i], m.text)]
            pos = m.end
    question = "".join(pieces) + _literal(problem.question[pos:])
    pieces, pos = [], 0
    for slot in symbolic.slots:
        written = problem.solution[slot.start:slot.end]
        args = [formula_text(slot.tree), written, slot.role]
        if slot.style is not None:
            args.append(_style(slot.style))
        pieces += [_literal(problem.solution[pos:slot.start]), _call(*args)]
        pos = slot.end
    solution = "".join(pieces) + _literal(problem.solution[pos:])
    variables = {}
    for v in symbolic.variables:
        spec = {"default": _number(v.value)}
        if v.places:
            spec["places"] = v.places
        if v.percent:
            spec["percent"] = True
        if v.upper is not None:
            spec["upper"] = _number(v.upper)
        if v.cents:
            spec["cents"] = True
        if v.derived is not None:
            spec["derived"] = formula_text(v.derived)
        variables[v.name] = spec
    front = {"form": "symbolic",
             "source": {"id": problem.source_id, "line": problem.source_line,
                        "format": problem.format},
             "variables": variables,
             "steps": {s.name: formula_text(s.tree) for s in symbolic.steps},
             "answer": formula_text(symbolic.final)}
    if symbolic.pinned:
        front["pinned"] = list(symbolic.pinned)
    if symbolic.same:
        front["same"] = {later: earlier for later, earlier in symbolic.same}
    if symbolic.order:
        front["order"] = [list(pair) for pair in symbolic.order]
    if symbolic.parts:
        front["parts"] = [list(pair) for pair in symbolic.parts]
    held = _held(symbolic)
    if held:
        front["constraints"] = held
    meta = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{meta}---\n{question}\n---\n{solution}\n"


def _held(symbolic: SymbolicProblem) -> list[dict]:
    """The story's bounds (``SymbolicProblem.covers``) that hold in the original, as the
    comparisons of ``constraints:``; the others bound nothing (``constraints.covered``)."""
    from mathgen.expressions import evaluate

    env = {v.name: v.value for v in symbolic.variables} | {s.name: s.value for s in symbolic.steps}
    out = []
    for whole, part, what, strict in symbolic.covers:
        left = evaluate(whole, env) - evaluate(part, env)
        if left > 0 or left == 0 and not strict:
            out.append({"holds": f"{formula_text(whole)} {'>' if strict else '>='} "
                                 f"{formula_text(part)}", "why": what})
    return out


def _number(value: Fraction):
    return int(value) if value.denominator == 1 else plain(value) \
        if "/" not in plain(value) else f"{value.numerator}/{value.denominator}"


def load(path: Path, meta: dict, question: str, solution: str, front: str = ""
         ) -> SymbolicProblem:
    """The symbolic problem of a templatized file (``form: symbolic``), as edited: its
    domains, constraints, steps and wording; an unknown key is an error naming its line."""
    from mathgen.expressions import evaluate, symbols

    from . import template_fields as tf

    fields = tf.Fields(Path(path), front)
    fields.check_keys(meta, (), tf.TOP_KEYS)
    source = meta.get("source") or {}
    fields.check_keys(source, ("source",), tf.SOURCE_KEYS)
    raw_vars, raw_steps = meta.get("variables") or {}, meta.get("steps") or {}
    for key, value, hint in (("variables", raw_vars, "n0: {default: 16}"),
                             ("steps", raw_steps, "s0: n0 - n1")):
        if not isinstance(value, dict):
            raise fields.error((key,), "must be a mapping", hint)
    specs = {}
    for k, spec in raw_vars.items():
        spec = {} if spec is None else spec
        fields.check_keys(spec, ("variables", str(k)), tf.VARIABLE_KEYS)
        if "default" not in spec:
            raise fields.error(("variables", str(k)), "missing 'default'",
                               "the number of the original problem: n0: {default: 16}")
        specs[str(k)] = spec
    defaults = {k: tf.number(spec["default"], fields, ("variables", k, "default"))
                for k, spec in specs.items()}
    steps, values = [], dict(defaults)
    for name, text in raw_steps.items():
        tree = formula_tree(str(text), fields.where("steps", str(name)))
        unknown = sorted(symbols(tree) - values.keys())
        if unknown:
            raise fields.error(("steps", str(name)), f"unknown variable {unknown[0]!r}",
                               "use the variables and the steps before it")
        try:
            values[str(name)] = evaluate(tree, values)
        except ZeroDivisionError:
            raise fields.error(("steps", str(name)), "divides by zero at the defaults") from None
        steps.append(Step(str(name), tree, values[str(name)], str(text)))
    if "answer" not in meta:
        raise fields.error(("answer",), "missing", "answer: the step that is the answer")
    final = formula_tree(str(meta["answer"]), fields.where("answer"))
    unknown = sorted(symbols(final) - values.keys())
    if unknown:
        raise fields.error(("answer",), f"unknown variable {unknown[0]!r}",
                           "the answer is a step, or a formula over variables and steps")
    where = str(path)
    q_text, q_marks = _render(question, values, where, "question")
    s_text, s_marks = _render(solution, values, where, "solution")
    problem = Problem(str(source.get("id", Path(path).stem)), int(source.get("line", 1)),
                      q_text, s_text, evaluate(final, values), str(source.get("format", "gsm8k")))
    mentions = tuple(find_mentions(q_text))
    at = {(m.start, m.end): i for i, m in enumerate(mentions)}
    owned: dict[str, list[int]] = {}
    for start, end, args in q_marks:
        if (start, end) not in at:
            raise TemplateError(f"{where}: the question's {args[1]!r} is not read as a number")
        owned.setdefault(args[0], []).append(at[(start, end)])
        if args[0] in defaults and mentions[at[(start, end)]].value != defaults[args[0]]:
            # a default edited alone would make the original problem's answer disagree with
            # its text: the two change together
            raise fields.error(("variables", args[0], "default"),
                               f"the question writes {args[1]!r} for {args[0]}, not its default "
                               f"{plain(defaults[args[0]])}",
                               "the default is the number the question writes; edit both")
    variables, domains = [], []
    for name, spec in specs.items():
        field = ("variables", name)
        derived = spec.get("derived")
        own = tf.domain(spec, fields, field, defaults[name])
        if own is not None and derived:
            raise fields.error(field, "a number worked out from others ('derived') has no "
                               "domain of its own", "bound it under constraints:")
        if own is not None:
            domains.append((name, own))
        upper = spec.get("upper")
        variables.append(Variable(
            name, defaults[name], tuple(owned.get(name, ())),
            bool(spec.get("percent", False)), int(spec.get("places", 0)),
            tf.number(upper, fields, field + ("upper",)) if upper is not None else None,
            formula_tree(str(derived), fields.where(*field, "derived")) if derived else None,
            bool(spec.get("cents", False))))
    covers = tf.constraints(meta.get("constraints"), fields, set(values), values, formula_tree)
    slots = tuple(Slot(start, end, formula_tree(args[0], f"{where}: solution"),
                       args[2] if len(args) > 2 else "literal",
                       _mention(args[3], args[1]) if len(args) > 3 else None)
                  for start, end, args in s_marks)
    step_names = {s.name for s in steps}
    pinned = tuple(str(p) for p in tf.names(meta.get("pinned"), fields, "pinned", step_names, 1))
    same = tf.names(meta.get("same"), fields, "same", step_names, 2)
    order = tf.names(meta.get("order"), fields, "order", step_names, 2)
    parts = tf.names(meta.get("parts"), fields, "parts", set(specs), 2)
    return SymbolicProblem(problem, mentions, tuple(variables), tuple(steps), final, slots,
                           pinned, same, order, parts, covers, tuple(domains))


def _render(body: str, values: dict, where: str, part: str):
    """The text at the defaults, and where each ``v(...)`` landed: (start, end, args)."""
    from jinja2 import TemplateError as JinjaError

    from .library import _environment

    calls: list[tuple] = []

    def v(*args):
        calls.append(tuple(str(a) for a in args))
        return f"\x00{len(calls) - 1}\x01{args[1]}\x02"

    try:
        raw = _environment().from_string(body).render(v=v)
    except JinjaError as err:
        raise TemplateError(f"{where}: the {part} cannot be rendered: {err}") from None
    out, marks, pos = [], [], 0
    for m in _MARK.finditer(raw):
        out.append(raw[pos:m.start()])
        start = sum(len(p) for p in out)
        out.append(m.group(2))
        marks.append((start, start + len(m.group(2)), calls[int(m.group(1))]))
        pos = m.end()
    out.append(raw[pos:])
    return "".join(out), marks
