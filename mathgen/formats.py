"""Input formats -> Problem, with a GSM8K-style worked solution for every format.

=========  ==========================================  ==========================================
format     fields                                      solution
=========  ==========================================  ==========================================
gsm8k      question, answer ('... <<a*b=c>>c ... #### N')  as given; a last line 'A: N' or
                                                         'The answer is N.' stands for '#### N'
model-     question, ground_truth, and fields holding   one Problem per solution marked correct
solutions  {is_correct, solution} (GSM8K's model         (source id NAME:LINE:FIELD); one marked
           solutions: 6b_finetuning, 175b_verification)  wrong is a Rejection, never a label
tora       question, gt_cot, gt (ToRA output files)     gt_cot + '#### gt'
svamp      Body, Question, Equation, Answer             the equation as one annotated step
asdiv      body, question, formula, answer ('9 (apples)')  each part of the formula (formula_steps)
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
from mathgen.formula_steps import asdiv_steps, calc, exact, join
from mathgen.io import read_rows, stem
from mathgen.numbers import parse_answer, plain
from mathgen.records import Problem, Rejection


@dataclass(frozen=True)
class Format:
    name: str
    fields: tuple[str, ...]
    convert: Callable[[dict, Path, int], tuple[str, str, Fraction]]  # question, solution, answer
    # Formats with several solutions per row: (field, (question, solution, answer) or the
    # UnsupportedProblem that field's solution gives), in the row's order.
    solutions: Callable[[dict, Path, int], list] | None = None


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


# The last line of a solution that states its final answer in words rather than '#### N':
# 'A: 18' (GSM8K's model-written solutions), 'Answer: 18', 'The (final) answer is 18.'.
_ANSWER_LINE = re.compile(r"\A(?:A|Answer|(?:So,? )?[Tt]he (?:final )?answer is)[ \t]*:?[ \t]*"
                          r"(-?\$?[\d,]*\.?\d+)[ \t]*\.?[ \t]*\Z")


def _final(solution: str, path, line, field) -> tuple[str, Fraction]:
    """The solution with its final answer on a '#### N' line, and that answer's value."""
    final = re.findall(r"^####[ \t]*(.*?)[ \t]*$", solution, re.MULTILINE)
    if not final:
        lines = solution.rstrip().split("\n")
        m = _ANSWER_LINE.match(lines[-1].strip())
        if m is None:
            raise InputError("has no final '#### N' line", path=path, line=line, field=field,
                             hint="GSM8K answers end with a line such as '#### 18' "
                                  "(or 'A: 18', 'The answer is 18.')")
        final = [m.group(1).replace("$", "")]
        solution = "\n".join(lines[:-1] + [f"#### {final[0]}"])
    value = _number(final[-1], path, line, field, "the '#### N' line must hold a number")
    return solution, value


def _gsm8k(row, path, line):
    question = _text(row, "question", path, line, "gsm8k")
    answer, value = _final(_text(row, "answer", path, line, "gsm8k"), path, line, "answer")
    return question, answer, value


def _model_rows(row, path, line):
    """GSM8K's model-written solutions: each field {is_correct, solution} beside the question."""
    question = _text(row, "question", path, line, "model-solutions")
    _truth, gold = _final(_text(row, "ground_truth", path, line, "model-solutions"), path, line,
                          "ground_truth")
    out = []
    for field, value in row.items():
        if not (isinstance(value, dict) and "is_correct" in value and "solution" in value):
            continue
        if value["is_correct"] is not True:
            out.append((field, UnsupportedProblem(
                "incorrect-solution", f"{field} is marked wrong (is_correct false)")))
            continue
        if not isinstance(value["solution"], str):
            raise InputError("expected text", path=path, line=line, field=f"{field}.solution")
        solution, answer = _final(value["solution"], path, line, f"{field}.solution")
        if answer != gold:  # marked correct, yet its answer is not the ground truth's
            out.append((field, UnsupportedProblem(
                "label-mismatch", f"{field} ends with {plain(answer)}, the ground truth is "
                                  f"{plain(gold)}")))
            continue
        out.append((field, (question, solution, gold)))
    if not out:
        raise InputError("has no solution field", path=path, line=line,
                         hint="model-solutions rows hold fields such as '175b_verification': "
                              "{\"is_correct\": true, \"solution\": \"... A: 18\"}")
    return out


def _model_solutions(row, path, line):
    """The question and its ground truth (the row as one problem, as sets read it)."""
    question = _text(row, "question", path, line, "model-solutions")
    truth, gold = _final(_text(row, "ground_truth", path, line, "model-solutions"), path, line,
                         "ground_truth")
    return question, truth, gold


def _tora(row, path, line):
    question = _text(row, "question", path, line, "tora")
    cot = _text(row, "gt_cot", path, line, "tora")
    gt = row.get("gt")
    value = _number(gt, path, line, "gt", "'gt' must be the numeric answer")
    return question, f"{cot.rstrip()}\n#### {plain(value)}", value


def _solution(steps: list[str], final: Fraction) -> str:
    lines = []
    for expr in steps:
        shown = plain(exact(expr))
        pretty = re.sub(r"(?<=[\d)])([-+*/])(?=[\d(])", r" \1 ", expr).replace(",", ", ")
        lines.append(f"{pretty} = <<{expr}={shown}>>{shown}")
    lines.append(f"#### {plain(final)}")
    return "\n".join(lines)


def _check(steps: list[str], answer: Fraction, tolerance: float = 1e-6) -> Fraction:
    """The exact value of the last step that agrees with the label."""
    values = [exact(expr) for expr in steps]
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
    steps = [calc(equation)]
    final = _check(steps, answer)
    return join(body, question), _solution(steps, final), final


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
    steps = asdiv_steps(body, question, formula, answer, row.get("solution_type", ""))
    final = _check(steps, answer)
    return join(body, question), _solution(steps, final), final


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
            value = plain(exact(expr))
            names[node.targets[0].id] = f"({expr})" if "/" in value else value
            continue
        if isinstance(node, ast.Return) and node.value is not None:
            expr = _program_expr(node.value, names)
            if not steps or expr not in (plain(exact(steps[-1])), f"({steps[-1]})"):
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
    "model-solutions": Format("model-solutions", ("question", "ground_truth"), _model_solutions,
                              _model_rows),
}
_DETECT_ORDER = ("gsm-hard", "svamp", "asdiv", "tora", "model-solutions", "gsm8k")


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

    Source ids are ``NAME:LINE``; NAME is the file's stem (a data set's split) unless given.
    """
    path = Path(path)
    name = name or stem(path)
    if format is not None and format not in FORMATS:
        raise InputError(f"unknown format {format!r}", path=path,
                         hint=f"choose one of: {', '.join(FORMATS)}")
    fmt = FORMATS[format] if format else None
    for line, row in read_rows(path, skip_invalid=skip_invalid):
        source_id = f"{name}:{line}"
        try:
            if isinstance(row, InputError):
                raise row
            if fmt is None:
                fmt = FORMATS[detect(row, path, line)]
            if fmt.solutions is not None:
                items = fmt.solutions(row, path, line)
            else:
                items = [(None, fmt.convert(row, path, line))]
        except InputError as err:
            if not skip_invalid:
                raise
            yield Rejection(source_id, line, "invalid-input", str(err))
            continue
        except UnsupportedProblem as err:
            yield Rejection(source_id, line, err.reason, err.detail)
            continue
        for field, item in items:
            item_id = source_id if field is None else f"{source_id}:{field}"
            if isinstance(item, UnsupportedProblem):
                yield Rejection(item_id, line, item.reason, item.detail)
            else:
                yield Problem(item_id, line, *item, fmt.name)
