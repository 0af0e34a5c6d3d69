"""GSM-Symbolic's annotated templates (Mirzadeh et al., 2024) as mathgen templates.

A file holds ``question_annotated``: the question with ``{var,default}`` placeholders, then
``#init:`` lines that give each variable its values, ``#conditions:`` and ``#answer:``, all
in Python syntax; and ``answer_annotated``, the worked solution with ``{expression}``
placeholders::

    {name,Benny} saw a {x,10}-foot shark with {k,2} {y,6}-inch remoras ...
    #init:
    - name = sample(names)
    - $x = range(10, 500, 10)
    #conditions:
    - divides(x * 12, k*y)
    #answer: int((k * y)/ (x * 12) * 100)

The authors never released the generator; this reads the files with mathgen's formula
whitelist (nothing is evaluated as code). Supported in ``#init:`` lines: ``sample(list)``,
``sample(list, k)`` (k distinct values), ``sample_sequential(list, k)`` (k consecutive),
``range``, ``frange``/``np.arange`` (exact decimal steps), ``numbers_within(a, b)`` (numbers
written as words), ``np.random.randint(a, b, k)`` (read as the range a..b-1), lists, ``list``,
``fix_floats`` and ``shuffle_list`` (no-ops with exact numbers), and the word lists of
``templates/lists.yaml``. A template using anything else is rejected with the construct named.
The harder P1/P2 files (clauses added to the original) read the same way; how their defaults
and answers are read is in ``generator.symbolic_defaults``.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

from mathgen.errors import MathgenError, UnsupportedProblem
from mathgen.formulas import FUNCTIONS, Dec, EvalError, FormulaError, Worded, parse
from mathgen.numbers import number_word, plain

from .render import tidy
from .slots import place
from .symbolic_defaults import adds_clauses, defaults as read_defaults, original_answer
from .template import (DecimalRange, Draw, Template, find_derived, infer_kinds, show,
                       word_lists)

_SECTION = re.compile(r"^[ \t]*#[ \t]*(init|conditions|answer)[ \t]*[:=]", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_INIT_LINE = re.compile(r"^-?\s*(?P<targets>[$\w\s,]+?)\s*=(?!=)\s*(?P<expr>.+)$")


class _Spec:
    def __init__(self, mode: str, seq, k: int = 1):
        self.mode, self.seq, self.k = mode, seq, k


def _range(*args):
    exact = [Fraction(a) for a in args]
    if all(a.denominator == 1 for a in exact) and not any(isinstance(a, Dec) for a in args):
        return range(*(int(a) for a in exact))
    start, stop, step = (exact + [Fraction(1)])[:3] if len(exact) > 1 else (0, exact[0], 1)
    return DecimalRange(start, stop, step)


def _sample(seq, k=None):
    return _Spec("one" if k is None else "distinct", _seq(seq), int(k or 1))


def _seq(x):
    if isinstance(x, _Spec):
        return x.seq
    if isinstance(x, (range, DecimalRange)):
        return x
    if isinstance(x, (list, tuple)):
        return [_item(i) for i in x]
    raise EvalError(f"expected a list of values, found {type(x).__name__}")


def _item(i):
    if isinstance(i, tuple) and len(i) == 2 and isinstance(i[1], (int, Fraction)):
        return Worded(Fraction(i[1]), show(i[0]))  # ("twins", 2): written 'twins', worth 2
    return i


_INIT_FUNCTIONS = FUNCTIONS | {
    "sample": _sample,
    "sample_sequential": lambda seq, k: _Spec("sequential", _seq(seq), int(k)),
    "range": _range,
    "frange": lambda a, b, s=1: DecimalRange(a, b, s),
    "np.arange": _range,
    "numbers_within": lambda a, b: [Worded(v, number_word(v)) for v in range(int(a), int(b) + 1)],
    "np.random.randint": lambda a, b, k=None: range(int(a), int(b)),
    "list": lambda x: list(_seq(x)),
    "fix_floats": lambda x: x,
    "shuffle_list": lambda x: x,
}


def _format_frac(x) -> str:
    """A fraction as a mixed number ('7 1/2'), a whole number as itself."""
    x = Fraction(x)
    whole, rest = divmod(x.numerator, x.denominator)
    if rest == 0:
        return str(whole)
    return f"{whole} {rest}/{x.denominator}" if whole else f"{rest}/{x.denominator}"


_TEXT_FUNCTIONS = FUNCTIONS | {"format_frac": _format_frac}


def load(path: Path, source_id: str) -> Template:
    """The template of one GSM-Symbolic file; UnsupportedProblem names what is not supported."""
    try:
        row = json.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UnsupportedProblem("unreadable-template", f"{path}: {err}") from None
    if not isinstance(row, dict) or not isinstance(row.get("question_annotated"), str) \
            or not isinstance(row.get("answer_annotated"), str):
        raise UnsupportedProblem("unreadable-template", f"{path}: needs the fields "
                                 "'question_annotated' and 'answer_annotated'")
    try:
        return _build(row, str(path), source_id)
    except FormulaError as err:
        raise UnsupportedProblem("unsupported-construct", str(err)) from None
    except EvalError as err:
        raise UnsupportedProblem("defaults-unevaluable", f"{path}: {err}") from None
    except UnsupportedProblem:
        raise
    except (MathgenError, ArithmeticError, LookupError, TypeError, ValueError,
            RecursionError) as err:
        # one odd file is one rejection that names it, never the end of a run of hundreds
        raise UnsupportedProblem("template-error", f"{path}: {type(err).__name__}: {err}") \
            from None


def _sections(text: str) -> tuple[str, dict[str, str]]:
    parts = _SECTION.split(text)
    body, sections = parts[0], {}
    for name, content in zip(parts[1::2], parts[2::2]):
        sections[name] = content.strip()
    return body.strip(), sections


def _build(row: dict, path: str, source_id: str) -> Template:
    body, sections = _sections(row["question_annotated"])
    if "answer" not in sections:
        raise UnsupportedProblem("unreadable-template", f"{path}: no '#answer:' line")
    lists = word_lists()
    draws = []
    for line in sections.get("init", "").splitlines():
        if not line.strip():
            continue
        m = _INIT_LINE.match(line.strip())
        if not m:
            raise UnsupportedProblem("unsupported-construct", f"init line {line.strip()!r}")
        names = tuple(t.strip().lstrip("$") for t in m.group("targets").split(","))
        try:
            spec = parse(m.group("expr"), _INIT_FUNCTIONS)(lists)
        except EvalError as err:
            raise UnsupportedProblem("unsupported-construct",
                                     f"init line {line.strip()!r}: {err}") from None
        if not isinstance(spec, _Spec):
            spec = _Spec("one", _seq(spec))
        if len(names) != spec.k and not (spec.mode == "sequential" and len(names) == spec.k):
            if spec.mode == "one" and len(names) > 1:
                spec = _Spec("distinct", spec.seq, len(names))
            else:
                raise UnsupportedProblem("unsupported-construct", f"init line {line.strip()!r}: "
                                         f"{len(names)} names for {spec.k} values")
        if len(spec.seq) < len(names):
            raise UnsupportedProblem("empty-domain", f"init line {line.strip()!r} has too few values")
        numeric = all(isinstance(spec.seq[i], (int, Fraction)) for i in range(min(3, len(spec.seq))))
        scalable = numeric and isinstance(spec.seq, (range, DecimalRange))
        draws.append(Draw(names, spec.seq, spec.mode, scalable))
    declared = {n for d in draws for n in d.names}
    question = _segments(body, path, "question_annotated")
    solution = _segments(row["answer_annotated"], path, "answer_annotated")
    conditions = tuple(parse(line.strip().lstrip("-").strip(), _TEXT_FUNCTIONS)
                       for line in sections.get("conditions", "").splitlines()
                       if line.strip().lstrip("-").strip())
    answer = parse(sections["answer"].strip().strip("{}").replace("$", ""), _TEXT_FUNCTIONS)
    used = set().union(*(f.names for f in conditions), answer.names,
                       *(s[0].names for s in question + solution if isinstance(s, tuple)))
    unknown = sorted(used - declared)
    if unknown:
        raise UnsupportedProblem("unknown-variable", f"{', '.join(unknown)} used but not in "
                                 "#init (lists are names, not variables)")
    derived = find_derived(draws, conditions, _TEXT_FUNCTIONS)
    defaults = read_defaults(draws, question, conditions, derived)
    renderer = _Renderer(question, solution, {n: d.domain for d in draws for n in d.names})
    template = Template(source_id, path, tuple(draws), defaults, conditions, (), answer, renderer,
                        derived=derived)
    try:
        env = template.evaluate(defaults)
        got = Fraction(env["answer"])
        # the worked solution must end in the #answer: where the stored answer does not
        # apply (P1/P2), this is what keeps a label from resting on one expression alone
        written = original_answer({"answer": renderer.solution(env)})
    except EvalError as err:
        raise UnsupportedProblem("defaults-unevaluable", f"{path}: {err}") from None
    object.__setattr__(template, "kinds", dict(infer_kinds(template)))
    # the stored answer is the original GSM8K one: it is the defaults' answer only where the
    # annotated question is the original's (P1/P2 add clauses; see adds_clauses)
    expected = original_answer(row)
    if expected is not None and got != expected and not adds_clauses(row, question):
        raise UnsupportedProblem("default-mismatch", f"the defaults give {plain(got)}, the "
                                 f"original answer is {plain(expected)}")
    if written is not None and written != got:
        raise UnsupportedProblem("solution-mismatch", f"at the defaults the solution ends in "
                                 f"{plain(written)}, the #answer gives {plain(got)}")
    return template


def _segments(text: str, path: str, field: str) -> list:
    """Text and (formula, default text) pieces; a ``{var,default}`` placeholder keeps its
    default, which tells the variable's value in the original and its capitalisation."""
    out, pos = [], 0
    for m in _PLACEHOLDER.finditer(text):
        out.append(text[pos:m.start()])
        inner = m.group(1)
        head, comma, default = inner.partition(",")
        if comma and re.fullmatch(r"\s*\$?[A-Za-z_]\w*\s*", head):
            out.append((parse(head.strip().lstrip("$"), _TEXT_FUNCTIONS), default.strip()))
        else:
            out.append((parse(inner, _TEXT_FUNCTIONS), None))
        pos = m.end()
    out.append(text[pos:])
    return out


class _Renderer:
    def __init__(self, question: list, solution: list, domains: dict):
        self._question, self._solution, self._domains = question, solution, domains
        self._fast = None

    def question(self, env: dict) -> str:
        return self._compiled()[0](env)

    def solution(self, env: dict) -> str:
        return self._compiled()[1](env)

    def slow_question(self, env: dict) -> str:
        return tidy(_render(self._question, env, words=True))

    def slow_solution(self, env: dict) -> str:
        # a solution computes with numbers: 'twice * 1/5' is written '2 * 1/5'
        return tidy(_render(self._solution, env, words=False).rstrip())

    def _compiled(self):
        """The texts written as functions with slots (generator.slots), on first use."""
        if self._fast is None:
            from .slots import compile_text, guarded

            fast = (compile_text(self._question, self._domains, words=True, strip=False),
                    compile_text(self._solution, self._domains, words=False, strip=True))
            self._fast = tuple(slow if f is None else guarded(f, slow) for f, slow in
                               zip(fast, (self.slow_question, self.slow_solution)))
        return self._fast


def _render(pieces: list, env: dict, words: bool) -> str:
    out = []
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        formula, default = piece
        place(out, show(formula(env), words), default)
    return "".join(out)
