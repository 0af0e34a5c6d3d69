"""mathgen's template files: YAML front matter, then a jinja2 question and worked solution.

::

    ---
    skills: [money, rates]
    variables:
      name: {list: names}
      cups: {range: [10, 60], default: 24}
      price: {range: [0.25, 2], step: 0.25, default: 0.5}
      cost: {choice: [5, 8, 10], default: 8}
    constraints:
      - cups * price > cost
    steps:
      revenue: cups * price
      profit: revenue - cost
    answer: profit
    ---
    {{ name }} sells {{ cups }} cups of lemonade at ${{ price | money }} each ...
    ---
    {{ name }} takes in {{ cups }} * {{ price | money }} = ${{ calc("cups * price") }}.
    ...
    #### {{ answer }}

Domains: ``range: [low, high]`` (both included, ``step`` 1 unless given; ``scale: true``
lets strategies such as ``digits:4`` or ``mmos-large`` move the number outside the range, for
quantities that can sensibly be any size), ``choice: [...]``
(numbers, words, or ``[text, value]`` pairs such as ``[twice, 2]``), ``list: NAME`` (a word
list of ``templates/lists.yaml``). A key naming several variables (``"a, b"``) draws distinct
values. Constraints, steps and the answer are formulas (``mathgen.formulas``). ``default`` is
the value of the template's own problem; it must lie in the domain and meet every constraint.
The skills and the number of steps (``steps:N``) are the tags ``--tag`` selects on.

The question and solution are rendered in a sandboxed jinja2 environment with strict
undefined variables. ``calc("formula")`` writes a calculator annotation (``<<16*12=192>>192``)
from the current values (``calc("n * price", money=true)`` writes the result as money:
``<<11*4.5=49.5>>49.50``; '$24.5' after a currency sign always becomes '$24.50'); filters:
``money`` (12, 2.50, 1250), ``commas`` (1,250), ``word`` (7 -> seven), ``num`` (a word as its number: 'a week' -> 7), ``cap`` (first letter upper case),
``plural`` (``{{ "box" | plural(n) }}``: box, boxes).
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from mathgen.formulas import Dec, EvalError, FormulaError, Worded, parse
from mathgen.numbers import format_like, number_word

from .render import tidy
from .template import (DecimalRange, Draw, Template, TemplateError, find_derived, infer_kinds,
                       show, word_lists)

_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n(.*?)\n---[ \t]*\n(.*)\Z", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_]\w*\Z")
SUFFIX = ".jinja"


def load(path: Path, source_id: str | None = None) -> Template:
    """The template in ``path``; a TemplateError says where it is wrong and how to fix it."""
    path = Path(path)
    try:
        text = path.read_text("utf-8").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError) as err:
        raise TemplateError(f"{path}: cannot read: {err}") from None
    m = _FRONT.match(text)
    if not m:
        raise TemplateError(f"{path}:1: expected front matter, question and solution, each "
                            "starting with a line '---' (hint: see 'mathgen perturb --help')")
    front, question, solution = m.group(1), m.group(2).strip(), m.group(3).strip()
    meta = _yaml(front, path)
    if meta.get("form") == "symbolic":  # written by 'mathgen templatize'
        from . import templatize

        return templatize.load(path, meta, m.group(2), m.group(3), front)
    where = _Where(path, front)
    template_id = str(meta.get("id") or source_id or path.stem)
    draws, defaults = _variables(meta.get("variables"), where)
    names = {n for d in draws for n in d.names}
    steps = []
    raw_steps = meta.get("steps") or {}
    if not isinstance(raw_steps, dict):
        raise where.error("steps", "must map step names to formulas",
                          "steps: {eggs: dozens * 12}")
    for name, formula in raw_steps.items():
        if not isinstance(name, str) or not _NAME.match(str(name)) or name in names or name == "answer":
            raise where.error("steps", f"step name {name!r} must be a new identifier")
        steps.append((str(name), _formula(formula, where, f"steps.{name}", "steps", names)))
        names = names | {str(name)}
    if "answer" not in meta:
        raise where.error("answer", "missing", "answer: the step or formula that is the answer")
    answer = _formula(meta["answer"], where, "answer", "answer", names)
    # constraints may name steps too ('total % shelf > 0')
    conditions = tuple(_formula(c, where, f"constraints[{i}]", "constraints", names)
                       for i, c in enumerate(_list(meta.get("constraints", []), where,
                                                   "constraints")))
    for part, body in (("question", question), ("solution", solution)):
        _check_jinja(body, part, names | {"answer"}, path, text)
    skills = tuple(str(s) for s in _list(meta.get("skills", []), where, "skills"))
    renderer = _Renderer(question, solution, str(path))
    template = Template(template_id, str(path), draws, defaults, conditions, tuple(steps),
                        answer, renderer, skills + (f"steps:{len(steps)}",))
    object.__setattr__(template, "derived", find_derived(draws, conditions))
    object.__setattr__(template, "kinds", infer_kinds(template))
    env, broken = template.complete({k: v for k, v in defaults.items()
                                     if k not in {d.name for d in template.derived}})
    if env is None:
        raise TemplateError(f"{path}: the defaults break a constraint: {broken} (hint: the "
                            "defaults are the template's own problem; they must meet every one)")
    return template


class _Where:
    """Line numbers of front-matter fields, for error messages."""

    def __init__(self, path: Path, front: str):
        self.path, self.lines = path, front.splitlines()

    def line(self, key: str) -> int:
        pattern = re.compile(rf"^\s*(?:-\s*)?['\"]?{re.escape(key)}['\"]?\s*:")
        for i, line in enumerate(self.lines):
            if pattern.match(line):
                return i + 2  # the front matter starts after the first '---' line
        return 1

    def error(self, field: str, message: str, hint: str | None = None,
              key: str | None = None, needle: str | None = None) -> TemplateError:
        line = self.line(key or field.split(".")[-1].split("[")[0])
        if needle:  # the line holding the bad formula itself
            line = next((i + 2 for i, row in enumerate(self.lines) if needle in row), line)
        text = f"{self.path}:{line}: field '{field}': {message}"
        return TemplateError(text + (f" (hint: {hint})" if hint else ""))


def _yaml(front: str, path: Path) -> dict:
    import yaml

    try:
        meta = yaml.safe_load(front)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        raise TemplateError(f"{path}:{line}: the front matter is not valid YAML: "
                            f"{getattr(err, 'problem', None) or err}") from None
    if not isinstance(meta, dict):
        raise TemplateError(f"{path}:2: the front matter must be a YAML mapping "
                            "(variables:, steps:, answer:)")
    return meta


def _list(value, where, field):
    if isinstance(value, (str, int, float)):
        return [value]
    if not isinstance(value, list):
        raise where.error(field, "must be a list")
    return value


def _formula(text, where, field, key, names):
    try:
        formula = parse(str(text))
    except FormulaError as err:
        raise where.error(field, str(err), key=key, needle=str(text).strip()) from None
    unknown = sorted(formula.names - names)
    if unknown:
        raise where.error(field, f"unknown variable {unknown[0]!r} in {formula.text!r}",
                          "declare it under variables: or as an earlier step", key=key,
                          needle=formula.text)
    return formula


def _number(x, where, field):
    if isinstance(x, bool) or x is None:
        raise where.error(field, f"{x!r} is not a number")
    if isinstance(x, int):
        return x
    try:
        value = Fraction(repr(x) if isinstance(x, float) else str(x))
    except (ValueError, ZeroDivisionError):
        raise where.error(field, f"{x!r} is not a number") from None
    return Dec(value)


def _variables(spec, where) -> tuple[tuple[Draw, ...], dict]:
    if not isinstance(spec, dict) or not spec:
        raise where.error("variables", "missing or empty", "variables: {n: {range: [2, 9]}}")
    draws, defaults = [], {}
    for key, domain in spec.items():
        if not isinstance(key, str):  # YAML 1.1 reads on/off/yes/no as booleans
            raise where.error(f"variables.{key}", f"the name reads as {key!r} in YAML",
                              "quote it ('off': ...) or choose another name", key=str(key))
        names = tuple(n.strip() for n in str(key).split(","))
        field = f"variables.{key}"
        for n in names:
            if not _NAME.match(n):
                raise where.error(field, f"{n!r} is not a valid variable name", key=str(key))
        if not isinstance(domain, dict):
            raise where.error(field, "must be a mapping such as {range: [1, 9]}", key=str(key))
        values, ranged = _domain(domain, where, field, str(key))
        scale = domain.get("scale", False)
        if not isinstance(scale, bool) or (scale and not ranged):
            raise where.error(field, "scale: takes true or false, and only with range:",
                              key=str(key))
        scalable = ranged and scale
        if len(values) < len(names):
            raise where.error(field, "the domain is empty" if not len(values)
                              else f"{len(names)} distinct values wanted from {len(values)}",
                              "widen the range or add choices", key=str(key))
        draws.append(Draw(names, values, "distinct" if len(names) > 1 else "one", scalable))
        given = domain.get("default")
        given = given if isinstance(given, list) and len(names) > 1 else [given] * len(names) \
            if given is not None else [values[i] for i in range(len(names))]
        for n, g in zip(names, given):
            defaults[n] = _default(g, values, where, field, str(key))
    return tuple(draws), defaults


def _domain(domain: dict, where, field, key):
    kinds = [k for k in ("range", "choice", "list") if k in domain]
    if len(kinds) != 1:
        raise where.error(field, "needs exactly one of range:, choice: or list:", key=key)
    if "range" in domain:
        bounds = domain["range"]
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise where.error(field, "range: needs [low, high]", key=key)
        low, high = (_number(b, where, field) for b in bounds)
        step = _number(domain.get("step", 1), where, field)
        if step <= 0:
            raise where.error(field, "step must be positive", key=key)
        if all(isinstance(v, int) for v in (low, high, step)):
            return range(low, high + 1, step), True
        return DecimalRange(low, Fraction(high) + Fraction(step) / 2, step), True
    if "choice" in domain:
        items = domain["choice"]
        if not isinstance(items, list):
            raise where.error(field, "choice: needs a list", key=key)
        out = []
        for item in items:
            if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
                out.append(Worded(Fraction(_number(item[1], where, field)), item[0]))
            elif isinstance(item, (int, float)) and not isinstance(item, bool):
                out.append(_number(item, where, field))
            else:
                out.append(str(item))
        return out, False
    lists = word_lists()
    name = str(domain["list"])
    if name not in lists:
        raise where.error(field, f"unknown list {name!r}", "one of " + ", ".join(sorted(lists)),
                          key=key)
    return lists[name], False


def _default(given, values, where, field, key):
    if isinstance(given, str):
        match = next((values[i] for i in range(min(len(values), 100000))
                      if show(values[i]) == given), None)
    else:
        target = _number(given, where, field) if not isinstance(given, (int, Fraction)) else given
        match = next((values[i] for i in range(min(len(values), 100000))
                      if isinstance(values[i], (int, Fraction)) and values[i] == target), None)
    if match is None:
        raise where.error(field, f"default {given!r} is not one of its values", key=key)
    return match


def _check_jinja(body, part, names, path, text):
    from jinja2 import TemplateSyntaxError, meta

    env = _environment()
    try:
        tree = env.parse(body)
        env.compile(tree)  # an unknown filter ('calc' used as one) shows only when compiling
    except TemplateSyntaxError as err:
        raise TemplateError(f"{path}:{_line_of(text, body) + (err.lineno or 1) - 1}: the {part} "
                            f"is not a valid jinja2 template: {err.message}") from None
    unknown = sorted(meta.find_undeclared_variables(tree) - names - set(env.globals))
    if unknown:
        line = _line_of(text, body)
        for i, row in enumerate(body.splitlines()):
            if re.search(rf"\b{re.escape(unknown[0])}\b", row):
                line += i
                break
        raise TemplateError(f"{path}:{line}: the {part} uses unknown variable {unknown[0]!r} "
                            "(hint: declare it under variables: or steps:)")


def _line_of(text: str, body: str) -> int:
    return text[:text.find(body)].count("\n") + 1 if body in text else 1


def _money(x) -> str:
    value = Fraction(x)
    return format_like(value, commas=False, places=0 if value.denominator == 1 else 2)


def _plural(word: str, count, form: str | None = None) -> str:
    """``{{ "hour" | plural(n) }}``: 'hour' for one, else 'hours' (or ``form``)."""
    if Fraction(count) == 1:
        return str(word)
    return form if form is not None else (str(word) + ("es" if str(word).endswith(
        ("s", "x", "ch", "sh")) else "s"))


def _word(x) -> str:
    value = Fraction(x)
    if value.denominator == 1 and 0 <= value < 100:
        return number_word(int(value))
    return show(x)


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import StrictUndefined, pass_context
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                               keep_trailing_newline=False)
    env.filters.update(money=_money, commas=lambda x: format_like(Fraction(x), commas=True),
                       word=_word, cap=lambda s: str(s)[:1].upper() + str(s)[1:],
                       num=lambda x: show(x, words=False), plural=_plural)

    @pass_context
    def calc(context, text, money=False):
        return annotation(str(text), context.get_all(), money)

    env.globals["calc"] = calc
    return env


@lru_cache(maxsize=4096)
def _parsed(text: str):
    return parse(text)


def annotation(text: str, env: dict, money: bool = False) -> str:
    """``<<16*12=192>>192`` for ``calc("dozens * 12")``: the formula with the current values
    written in, and its exact result (``money``: written 49.50 after the annotation)."""
    try:
        formula = _parsed(text)
        value = formula(env)
    except (FormulaError, EvalError) as err:
        raise TemplateError(f"calc({text!r}): {err}") from None
    names = sorted(formula.names, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None

    def written(m):
        shown = show(env[m.group(1)], words=False)
        return f"({shown})" if "/" in shown else shown

    expr = pattern.sub(written, formula.text) if pattern else formula.text
    result = show(value, words=False)
    return f"<<{expr.replace(' ', '')}={result}>>{_money(value) if money else result}"


class _Renderer:
    def __init__(self, question: str, solution: str, path: str):
        env = _environment()
        self._question = env.from_string(question)
        self._solution = env.from_string(solution)
        self.path = path

    def question(self, env: dict) -> str:
        return tidy(self._render(self._question, env))

    def solution(self, env: dict) -> str:
        return tidy(self._render(self._solution, env))

    def _render(self, tpl, env):
        from jinja2 import TemplateError as JinjaError

        try:
            return tpl.render(**env).strip()
        except JinjaError as err:
            raise TemplateError(f"{self.path}: rendering failed: {err}") from None

