"""Input formats -> Problem, with a GSM8K-style worked solution for every format.

=========  ==========================================  ==========================================
format     fields                                      solution
=========  ==========================================  ==========================================
gsm8k      question, answer ('... <<a*b=c>>c ... #### N')  as given
tora       question, gt_cot, gt (ToRA output files)     gt_cot + '#### gt'
svamp      Body, Question, Equation, Answer             the equation as one annotated step
asdiv      body, question, formula, answer ('9 (apples)')  each 'expr=result' of the formula
gsm-hard   input, code, target                          each assignment of the program, read (not
                                                         run) as an annotated step
=========  ==========================================  ==========================================

The format is detected from the first row's fields; ``format=`` forces one.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

from mathgen.errors import InputError, UnsupportedProblem
from mathgen import algebra
from mathgen.expressions import evaluate, evaluate_literals, parse, substitute
from mathgen.io import read_jsonl
from mathgen.numbers import find_mentions, parse_answer, plain
from mathgen.records import Problem, Rejection


@dataclass(frozen=True)
class Format:
    name: str
    fields: tuple[str, ...]
    convert: Callable[[dict, Path, int], tuple[str, str, Fraction]]  # question, solution, answer


def _text(row: dict, field: str, path: Path, line: int, fmt: str) -> str:
    value = row.get(field)
    if value is None:
        raise InputError("missing", path=path, line=line, field=field,
                         hint=f"a {fmt} row needs {', '.join(repr(f) for f in FORMATS[fmt].fields)}")
    if not isinstance(value, str):
        raise InputError(f"expected text, found {type(value).__name__}", path=path, line=line,
                         field=field)
    return value


def _number(text, path, line, field, hint) -> Fraction:
    try:
        return parse_answer(text)
    except ValueError:
        raise InputError(f"{str(text)[:40]!r} is not a number", path=path, line=line, field=field,
                         hint=hint) from None


def _gsm8k(row, path, line):
    question = _text(row, "question", path, line, "gsm8k")
    answer = _text(row, "answer", path, line, "gsm8k")
    final = re.findall(r"^####[ \t]*(.*?)[ \t]*$", answer, re.MULTILINE)
    if not final:
        raise InputError("has no final '#### N' line", path=path, line=line, field="answer",
                         hint="GSM8K answers end with a line such as '#### 18'")
    value = _number(final[-1], path, line, "answer", "the '#### N' line must hold a number")
    return question, answer, value


def _tora(row, path, line):
    question = _text(row, "question", path, line, "tora")
    cot = _text(row, "gt_cot", path, line, "tora")
    gt = row.get("gt")
    value = _number(gt, path, line, "gt", "'gt' must be the numeric answer")
    return question, f"{cot.rstrip()}\n#### {plain(value)}", value


def _join(body: str, question: str) -> str:
    body, question = body.strip(), question.strip()
    if not body or body[-1] in ".!?":
        return f"{body} {question}".strip()
    if body[-1] in ",;:":  # 'If this pattern continues, how many ...'
        return f"{body} {question[:1].lower()}{question[1:]}"
    return f"{body}, {question[:1].lower()}{question[1:]}"


def _calc(expr: str) -> str:
    """A calculation with numbers written as people write them ('290.0' -> '290')."""
    expr = re.sub(r"\s+", "", re.sub(r"(\d+)\.0+\b", r"\1", expr)).replace("^", "**")
    while expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1]):
        expr = expr[1:-1]
    return expr


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _exact(expr: str) -> Fraction:
    try:
        tree, literals = parse(expr)
        return evaluate(substitute(tree, [("const", x.value) for x in literals]))
    except (UnsupportedProblem, ZeroDivisionError, ValueError, OverflowError, TypeError,
            SyntaxError, RecursionError, MemoryError) as err:
        raise UnsupportedProblem("unsupported-formula", f"{expr}: {err}") from None


def _solution(steps: list[str], final: Fraction) -> str:
    lines = []
    for expr in steps:
        shown = plain(_exact(expr))
        pretty = re.sub(r"(?<=[\d)])([-+*/])(?=[\d(])", r" \1 ", expr).replace(",", ", ")
        lines.append(f"{pretty} = <<{expr}={shown}>>{shown}")
    lines.append(f"#### {plain(final)}")
    return "\n".join(lines)


def _check(steps: list[str], answer: Fraction, tolerance: float = 1e-6) -> Fraction:
    """The exact value of the last step that agrees with the label."""
    values = [_exact(expr) for expr in steps]
    if any("/" in plain(v) for v in values):
        raise UnsupportedProblem("unsupported-formula", "a step has no exact decimal value")
    slack = Fraction(tolerance) * max(Fraction(1), abs(answer))
    for value in reversed(values):
        if abs(value - answer) <= slack:
            return value
    raise UnsupportedProblem("label-mismatch", f"the steps give {plain(values[-1])}, the label is "
                       f"{plain(answer)}")


def _svamp(row, path, line):
    body = _text(row, "Body", path, line, "svamp")
    question = _text(row, "Question", path, line, "svamp")
    equation = _text(row, "Equation", path, line, "svamp")
    answer = _number(row.get("Answer"), path, line, "Answer", "'Answer' must be a number")
    steps = [_calc(equation)]
    final = _check(steps, answer)
    return _join(body, question), _solution(steps, final), final


_ASDIV_STEP = re.compile(r"^\s*(.+?)\s*=\s*(-?\d+(?:\.\d+)?)(?:\s*r\s*(\d+))?\s*$")
_ASDIV_UNIT = re.compile(r"\s*\([A-Za-z]+(?:/[A-Za-z]+)?\)|(?<=\d)\s*(?:cents?|dollars?)\b")
_N = r"(\d+(?:\.\d+)?)"
_ASDIV_RATIO = re.compile(rf"^{_N}\s*:\s*{_N}\s*=\s*{_N}\s*:\s*{_N}$")


def _asdiv(row, path, line):
    body = _text(row, "body", path, line, "asdiv")
    question = _text(row, "question", path, line, "asdiv")
    formula = _text(row, "formula", path, line, "asdiv")
    answer_text = _text(row, "answer", path, line, "asdiv")
    head = answer_text.split(" (")[0].strip()
    try:
        answer = Fraction(head) if re.fullmatch(r"-?\d+(?:\.\d+)?(?:/[1-9]\d*)?", head) else None
    except (ValueError, ZeroDivisionError):
        answer = None
    if answer is None:
        raise UnsupportedProblem("non-numeric-answer", f"the answer {answer_text!r} is not a number")
    steps = _asdiv_algebra(formula, answer) or _asdiv_sequence(body, formula, answer)
    parts = [] if steps else formula.split(";")
    text = _join(body, question)
    explain = _proportions(text)
    for k, part in enumerate(parts):
        part = _ASDIV_UNIT.sub("", part).strip()
        ratio = _ASDIV_RATIO.match(part)
        if ratio:  # 2:3=12:x -> x = 12*3/2
            a, b, c, d = ratio.groups()
            a, b = explain(a), explain(b)
            if Fraction(d) == answer:
                steps.append(f"{c}*{b}/{a}")
            elif Fraction(c) == answer:
                steps.append(f"{d}*{a}/{b}")
            else:
                raise UnsupportedProblem("unsupported-formula", f"cannot read {part!r}")
            continue
        m = _ASDIV_STEP.match(part)
        if not m:
            raise UnsupportedProblem("unsupported-formula", f"cannot read {part!r}")
        lhs = _FORMULA_NUMBER.sub(lambda x: explain(x.group()), m.group(1))
        expr = re.sub(r"\b(GCD|LCM)\b", lambda f: f.group().lower(), _calc(lhs))
        expr = expr.replace("[", "(").replace("]", ")")
        if m.group(3) is not None and int(m.group(3)) != 0:  # 17/5=3 r2
            num, _, den = expr.rpartition("/")
            if not num or not re.fullmatch(r"[\d.]+", den):
                raise UnsupportedProblem("unsupported-formula", f"cannot read {part!r}")
            quotient, remainder = Fraction(m.group(2)), Fraction(m.group(3))
            kind = row.get("solution_type", "")
            if k < len(parts) - 1:  # later parts may use either
                steps += [f"{num}//{den}", f"{num}%{den}"]
            elif quotient + 1 == answer and kind != "Surplus":  # 3 full buses and one more
                steps.append(f"ceil({num}/{den})")
            elif remainder == answer and (quotient != answer or kind == "Surplus"):
                steps.append(f"{num}%{den}")  # what is left over
            else:
                steps.append(f"{num}//{den}")
        else:
            steps.append(expr)
    final = _check(steps, answer)
    return text, _solution(steps, final), final


_RATIO = re.compile(r"(?<![\d:.])(\d+)\s*:\s*(\d+)(?![\d:])")
_FORMULA_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")


def _proportions(text: str):
    """A function that writes out a formula number worked out in the head from a ratio.

    'The ratio of boys to girls is 8:5. There are 30 girls.' with '48-30=18' reads the 48 as
    30*8/5; with '2:3=12:18' after 'a ratio of 2:1', the 3 is 2+1 (the parts together). A
    number of the question stays as written, and so does one that no reading or more than
    one reading explains.
    """
    numbers = [m.value for m in find_mentions(text)]
    pairs = [(Fraction(a), Fraction(b)) for a, b in _RATIO.findall(text)]

    def readings(value: Fraction) -> set[str]:
        out = set()
        for p, q in pairs:
            parts = {p: plain(p), q: plain(q), p + q: f"({plain(p)}+{plain(q)})"}
            if p != q:
                parts.setdefault(abs(p - q), f"({plain(max(p, q))}-{plain(min(p, q))})")
            if value in parts and value not in (p, q):
                out.add(parts[value])
            for x in numbers:
                if x in (p, q):
                    continue
                for r, r_text in parts.items():
                    for d, d_text in parts.items():
                        if r != d and d and x * r / d == value:
                            out.add(f"({plain(x)}*{r_text}/{d_text})")
        return out

    def explain(number: str) -> str:
        value = Fraction(number)
        if value in numbers or not pairs:
            return number
        found = readings(value)
        return found.pop() if len(found) == 1 else number

    return explain


_SEQUENCE = re.compile(r"^\s*\d+(?:\s*[,.]\s+\d+|\s*,\s*\d+){2,}\s*$")


def _asdiv_sequence(body: str, formula: str, answer: Fraction) -> list[str]:
    """'5, 7, 10, 14, 19, 25' (a pattern to continue) -> steps that find the rule from the
    numbers of the body and apply it term by term: each later term of the body is then a
    result, so a variant keeps the pattern. [] when the formula is not such a list.

    The rule is the simplest that the body's numbers follow: a constant difference, a
    constant whole ratio, or differences that grow by a constant (four terms at least).
    """
    if not _SEQUENCE.match(formula):
        return []
    terms = [m.value for m in find_mentions(body)]
    text = [plain(t) for t in terms]
    diffs = [b - a for a, b in zip(terms, terms[1:])]
    steps: list[str] = []
    if len(terms) >= 3 and len(set(diffs)) == 1:  # 8, 16, 24: 24 + 16 - 8
        steps += [f"{text[k - 1]}+{text[1]}-{text[0]}" for k in range(2, len(terms) + 1)]
        steps.append(f"{text[1]}-{text[0]}")  # last, so no number can be read as it
    elif len(terms) >= 3 and all(terms) and len({b / a for a, b in zip(terms, terms[1:])}) == 1 \
            and (terms[1] / terms[0]).denominator == 1:  # 2, 6, 18: 18 * 6 / 2
        steps += [f"{text[k - 1]}*{text[1]}/{text[0]}" for k in range(2, len(terms) + 1)]
        steps.append(f"{text[1]}/{text[0]}")
    elif len(terms) >= 4 and len({b - a for a, b in zip(diffs, diffs[1:])}) == 1:
        # 5, 7, 10, 14: the differences grow by 10 - 7 - (7 - 5) = 1, so 14 is 10 + 10 - 7 + 1
        # and 19 is 14 + 10 - 7 + 1 + 1 (each later term written once, as a result)
        grow = plain(diffs[1] - diffs[0])
        steps.append(f"{text[2]}-{text[1]}-({text[1]}-{text[0]})")
        steps += [f"{text[k - 1]}+{text[2]}-{text[1]}" + f"+{grow}" * (k - 2)
                  for k in range(3, len(terms) + 1)]
        steps.append(f"{text[1]}-{text[0]}")
    else:
        raise UnsupportedProblem("unsupported-formula", f"the numbers of the body follow no "
                                 f"constant difference, ratio or growing difference: {formula!r}")
    if _exact(steps[-2]) != answer:
        raise UnsupportedProblem("label-mismatch", f"the pattern of the body gives "
                                 f"{plain(_exact(steps[-2]))}, the label is {plain(answer)}")
    return steps


_ASDIV_UNKNOWN = re.compile(r"^\s*([A-Za-z])\s*:")
_LETTER = re.compile(r"(?<![A-Za-z])[A-Za-z](?![A-Za-z])")


def _asdiv_algebra(formula: str, answer: Fraction) -> list[str]:
    """'x:The number; (1/3)*x-7=8' -> ['(8 + 7) / (1 / 3)']; [] when the formula has no unknown.

    The unknowns are the declared letters ('x:...'), or the single letters of an equation
    ('11H=132'). With two unknowns the answer is one of them, or their ratio ('7/9').
    """
    parts = [_ASDIV_UNIT.sub("", p).strip() for p in formula.split(";")]
    unknowns = [m.group(1) for p in parts for m in [_ASDIV_UNKNOWN.match(p)] if m]
    equations = [p for p in parts if not _ASDIV_UNKNOWN.match(p)]
    if not unknowns:
        if len(equations) != 1 or "=" not in equations[0]:
            return []
        # the r of '47/6=7 r5' is a remainder, not an unknown
        unknowns = sorted(set(_LETTER.findall(re.sub(r"\br\s*\d+\s*$", "", equations[0]))))
        if not unknowns:
            return []
    eqs = [algebra.equation(p, unknowns) for p in equations]
    solved = algebra.solve(eqs, unknowns)
    texts = [x.text for eq in eqs for x in eq.literals]
    values = [x.value for eq in eqs for x in eq.literals]
    found = {u: evaluate_literals(t, values) for u, t in solved.items()}
    options = [solved[u] for u in unknowns if found[u] == answer]
    if not options and len(unknowns) == 2:
        x, y = unknowns
        options = [("div", solved[a], solved[b]) for a, b in ((x, y), (y, x))
                   if found[b] and found[a] / found[b] == answer]
    if not options:
        raise UnsupportedProblem("label-mismatch", f"{formula!r} does not give {plain(answer)}")
    return [algebra.to_text(options[0], texts)]


def _gsm_hard(row, path, line):
    question = _text(row, "input", path, line, "gsm-hard")
    code = _text(row, "code", path, line, "gsm-hard")
    target = row.get("target")
    if not isinstance(target, (int, float)) or isinstance(target, bool) \
            or (isinstance(target, float) and not math.isfinite(target)):
        raise InputError("must be a number", path=path, line=line, field="target",
                         hint="GSM-HARD rows carry the program's output as 'target'")
    try:
        steps = _program_steps(code)
    except RecursionError:
        raise UnsupportedProblem("unsupported-program", "nested too deeply") from None
    final = _check(steps, Fraction(target), tolerance=1e-4)
    return question, _solution(steps, final), final


def _program_steps(code: str) -> list[str]:
    """Straight-line arithmetic of a PAL program, read with ``ast`` and never run."""
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        raise UnsupportedProblem("unsupported-program", f"not valid Python ({err.msg})") from None
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if len(funcs) != 1:
        raise UnsupportedProblem("unsupported-program", "expected one solution() function")
    names: dict[str, str] = {}  # variable -> how it is written in later steps
    steps: list[str] = []
    for node in funcs[0].body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstring
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            expr = _program_expr(node.value, names)
            if not isinstance(node.value, ast.BinOp):
                names[node.targets[0].id] = expr  # a number of the question, or an alias
                continue
            steps.append(expr)
            value = plain(_exact(expr))
            names[node.targets[0].id] = f"({expr})" if "/" in value else value
            continue
        if isinstance(node, ast.Return) and node.value is not None:
            expr = _program_expr(node.value, names)
            if not steps or expr not in (plain(_exact(steps[-1])), f"({steps[-1]})"):
                steps.append(expr)
            return steps
        raise UnsupportedProblem("unsupported-program", f"line {node.lineno}: only assignments of "
                           "arithmetic and a return are read")
    raise UnsupportedProblem("unsupported-program", "solution() returns nothing")


_AST_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
            ast.Mod: "%", ast.Pow: "**"}


def _program_expr(node, values: dict[str, str]) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return plain(Fraction(str(node.value)))
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise UnsupportedProblem("unsupported-program", f"unknown name {node.id!r}")
        return values[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _AST_OPS:
        return (f"{_program_expr(node.left, values)}{_AST_OPS[type(node.op)]}"
                f"{_program_expr(node.right, values)}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return f"-{_program_expr(node.operand, values)}"
    raise UnsupportedProblem("unsupported-program", f"line {getattr(node, 'lineno', '?')}: "
                       f"{type(node).__name__} is not plain arithmetic")


FORMATS: dict[str, Format] = {
    "gsm8k": Format("gsm8k", ("question", "answer"), _gsm8k),
    "tora": Format("tora", ("question", "gt_cot", "gt"), _tora),
    "svamp": Format("svamp", ("Body", "Question", "Equation", "Answer"), _svamp),
    "asdiv": Format("asdiv", ("body", "question", "formula", "answer"), _asdiv),
    "gsm-hard": Format("gsm-hard", ("input", "code", "target"), _gsm_hard),
}
_DETECT_ORDER = ("gsm-hard", "svamp", "asdiv", "tora", "gsm8k")


def detect(row: dict, path, line: int) -> str:
    """The format whose fields the row has; an InputError listing the fields otherwise."""
    for name in _DETECT_ORDER:
        if all(f in row for f in FORMATS[name].fields):
            return name
    fields = ", ".join(sorted(repr(str(k))[1:-1][:30] for k in row)[:8]) or "none"
    raise InputError(f"cannot tell the format from the fields ({fields})", path=path, line=line,
                     hint=f"use --format with one of: {', '.join(FORMATS)}")


def load_problems(path, format: str | None = None, skip_invalid: bool = False,
                  name: str | None = None) -> Iterator[Problem | Rejection]:
    """Problems of one file in order; rows that cannot be used come as Rejections.

    Source ids are ``NAME:LINE``; NAME is the file's stem unless given.
    """
    path = Path(path)
    name = name or path.stem
    if format is not None and format not in FORMATS:
        raise InputError(f"unknown format {format!r}", path=path,
                         hint=f"choose one of: {', '.join(FORMATS)}")
    fmt = FORMATS[format] if format else None
    for line, row in read_jsonl(path, skip_invalid=skip_invalid):
        source_id = f"{name}:{line}"
        try:
            if isinstance(row, InputError):
                raise row
            if fmt is None:
                fmt = FORMATS[detect(row, path, line)]
            question, solution, answer = fmt.convert(row, path, line)
        except InputError as err:
            if not skip_invalid:
                raise
            yield Rejection(source_id, line, "invalid-input", str(err))
            continue
        except UnsupportedProblem as err:
            yield Rejection(source_id, line, err.reason, err.detail)
            continue
        yield Problem(source_id, line, question, solution, answer, fmt.name)
