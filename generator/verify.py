"""Checking variants with programs that solved the original problem (the MMOS multi-path check).

A program that solved the original ("eggs = 16 - 3 - 4; print(eggs * 2)") should print a
variant's answer once the variant's numbers are put into its literals (16 -> 21). Programs
come from ToRA output files (the last ```python block of a path whose prediction was right),
GSM-HARD rows (``code`` with its ``solution()``) or ``{"source_line": .., "program": ..}``
lines (with several input files, use ``"source_id": "test:3"``, the variants' id, instead). Every program runs in ``mathgen.sandbox``, never in this process.

A (variant, program) pair is checkable only when putting numbers into literals means what the
variant means: every changed number is a literal of the program, written as often as the
question mentions it, and no mention of the same number stayed as it was. Otherwise the
program may hard-code a number the question only implies ('twice' as 2) and the swap would
change the wrong thing.
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from mathgen.errors import InputError
from mathgen.io import read_jsonl
from mathgen.numbers import find_mentions
from mathgen.records import Rejection, Variant

TIMEOUT = 5.0
_BLOCK = re.compile(r"```python[ \t]*\n(.*?)```", re.DOTALL)
_NUMBER = re.compile(r"-?(?:\d[\d,]*)?\.?\d+(?:[eE][-+]?\d+)?(?:/\d+)?")


@dataclass(frozen=True)
class Program:
    """A program that solved one problem, keyed by its question (or by input line)."""

    code: str
    origin: str  # 'FILE:LINE', for messages
    question: str | None = None
    source_line: int | None = None
    source_id: str | None = None


@dataclass
class Verification:
    verified: int = 0  # variants whose checkable programs all print their answer
    disagreed: int = 0  # variants some checkable program contradicts (rejected)
    uncheckable: int = 0  # variants no program could check (kept)

    def line(self) -> str:
        return (f"checked with programs: {self.verified} verified, {self.disagreed} disagreed "
                f"(rejected as program-disagrees), {self.uncheckable} uncheckable (kept)")


def load_programs(paths) -> list[Program]:
    """Programs from ToRA output files, GSM-HARD files or ``{source_line, program}`` lines."""
    out: list[Program] = []
    for path in map(Path, paths):
        for line, row in read_jsonl(path):
            origin = f"{path}:{line}"
            if "program" in row:
                if not isinstance(row["program"], str):
                    raise InputError("must be a string", path=path, line=line, field="program")
                source_id, source = row.get("source_id"), row.get("source_line")
                if source_id is not None and not isinstance(source_id, str):
                    raise InputError("must be a string such as 'test:3'", path=path, line=line,
                                     field="source_id")
                if source_id is None and (not isinstance(source, int) or isinstance(source, bool)
                                          or source < 1):
                    raise InputError("must be the 1-based line of the input row", path=path,
                                     line=line, field="source_line",
                                     hint='lines look like {"source_line": 3, "program": "..."}')
                out.append(Program(row["program"], origin, source_line=source,
                                   source_id=source_id))
            elif "code" in row and "input" in row:  # GSM-HARD: the label is solution()'s value
                if not isinstance(row["code"], str):
                    raise InputError("must be a string", path=path, line=line, field="code")
                out.append(Program(row["code"] + "\n\nprint(solution())\n", origin,
                                   question=str(row["input"])))
            elif "code" in row and "question" in row:  # ToRA output: paths with predictions
                out += _tora_programs(row, path, line)
            else:
                raise InputError("not a program row", path=path, line=line,
                                 hint="give ToRA output files, GSM-HARD files, or lines "
                                      '{"source_line": N, "program": "..."}')
    return out


def _tora_programs(row: dict, path: Path, line: int) -> list[Program]:
    paths, preds = row.get("code"), row.get("pred")
    if not isinstance(paths, list) or not isinstance(preds, list):
        raise InputError("must be a list", path=path, line=line,
                         field="code" if not isinstance(paths, list) else "pred",
                         hint="ToRA output rows hold 'code' and 'pred' lists, one per path")
    gold = _value(str(row.get("gt", "")))
    out = []
    for k, (text, pred) in enumerate(zip(paths, preds)):
        blocks = _BLOCK.findall(text) if isinstance(text, str) else []
        if blocks and gold is not None and _value(str(pred)) == gold:
            out.append(Program(blocks[-1], f"{path}:{line} path {k + 1}",
                               question=str(row["question"])))
    return out


def verify(results: list, programs: list[Program], *, timeout: float = TIMEOUT,
           workers: int | None = None, tally: Verification | None = None) -> list:
    """Results of ``perturb_all`` (variant lists or Rejections), each variant checked.

    Returns, per input result, the variants kept plus one Rejection per contradicted variant
    (reason ``program-disagrees``); a problem whose every variant was contradicted yields only
    those rejections.
    """
    tally = tally if tally is not None else Verification()
    by_question: dict[str, list[Program]] = {}
    by_line: dict[int, list[Program]] = {}
    by_id: dict[str, list[Program]] = {}
    for prog in programs:
        if prog.question is not None:
            by_question.setdefault(_norm(prog.question), []).append(prog)
        elif prog.source_id is not None:
            by_id.setdefault(prog.source_id, []).append(prog)
        else:
            by_line.setdefault(prog.source_line, []).append(prog)
    # (result index, variant index, program) for the original and for each checkable swap
    originals, swaps = [], []
    for r, result in enumerate(results):
        if isinstance(result, Rejection) or not result:
            continue
        first = result[0]
        candidates = by_question.get(_norm(first.original_question), []) \
            + by_id.get(first.source_id, []) + by_line.get(first.source_line, [])
        for prog in candidates:
            originals.append((r, prog))
            for v, variant in enumerate(result):
                swapped = swap(prog.code, variant)
                if swapped is not None:
                    swaps.append((r, v, prog, swapped))
    runs = _run_distinct([p.code for _, p in originals] + [s[3] for s in swaps], timeout,
                         workers)
    solved = {(r, p.origin) for (r, p), run in zip(originals, runs)
              if run.status == "ok" and printed_equals(run.stdout, results[r][0].original_final_answer)}
    verdicts: dict[tuple[int, int], list[tuple[bool, str]]] = {}
    for (r, v, prog, _), run in zip(swaps, runs[len(originals):]):
        # a program that did not finish with the new numbers (timeout, memory) checks nothing
        if (r, prog.origin) in solved and run.status == "ok":
            answer = results[r][v].final_answer
            verdicts.setdefault((r, v), []).append(
                (run.status == "ok" and printed_equals(run.stdout, answer),
                 f"{prog.origin} printed {run.stdout.strip()[-60:]!r}, the label is {answer}"))
    out = []
    for r, result in enumerate(results):
        if isinstance(result, Rejection):
            out.append(result)
            continue
        kept, rejected = [], []
        for v, variant in enumerate(result):
            checks = verdicts.get((r, v))
            if not checks:
                tally.uncheckable += 1
                kept.append(variant)
            elif all(ok for ok, _ in checks):
                tally.verified += 1
                kept.append(variant)
            else:
                tally.disagreed += 1
                detail = "; ".join(why for ok, why in checks if not ok)
                rejected.append(Rejection(variant.source_id, variant.source_line,
                                          "program-disagrees", f"variant {variant.id}: {detail}"))
        out.append((kept, rejected))
    return out


def _run_distinct(codes: list[str], timeout: float, workers: int | None) -> list:
    """``sandbox.run_many`` over ``codes``, each distinct program run once: the two ToRA
    models often write the same program, and a swap that changes nothing a program reads
    gives its original back."""
    from mathgen import sandbox

    distinct = list(dict.fromkeys(codes))
    runs = dict(zip(distinct, sandbox.run_many(distinct, timeout=timeout, workers=workers)))
    return [runs[code] for code in codes]


def swap(program: str, variant: Variant) -> str | None:
    """The program with the variant's numbers in its literals; None when that would not mean
    what the variant means (see the module docstring) or the program cannot be parsed."""
    mapping: dict[Fraction, Fraction] = {}
    changed: Counter = Counter()
    for old, new in variant.substitutions:
        old_value, new_value = Fraction(old), Fraction(new)
        if mapping.setdefault(old_value, new_value) != new_value:
            return None  # one number became two
        changed[old_value] += 1
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    literals = [node for node in ast.walk(tree) if _is_number(node)]
    written = Counter(Fraction(str(node.value)) for node in literals)
    mentioned = Counter(m.value for m in find_mentions(variant.original_question) if m.quantity)
    for value, count in changed.items():
        if written[value] == 0 or mentioned[value] != count or written[value] != count:
            return None
    for node in literals:
        new = mapping.get(Fraction(str(node.value)))
        if new is not None:
            node.value = float(new) if isinstance(node.value, float) else _as_literal(new)
    try:
        return ast.unparse(tree)
    except (ValueError, RecursionError):
        return None


def _is_number(node) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) \
        and math.isfinite(node.value)


def _as_literal(value: Fraction):
    """An int where the new number is whole; otherwise a float, as the program would write it."""
    return int(value) if value.denominator == 1 else float(value)


def printed_equals(stdout: str, label: str, rel_tol: float = 1e-9) -> bool:
    """Whether the last number printed equals the label: exactly for whole numbers and p/q,
    within float rounding for a printed float (0.30000000000000004 is 0.3, 1000001 is not
    1000000). Printed text is untrusted: long or huge numbers are read without big arithmetic.
    """
    numbers = _NUMBER.findall(stdout[-4096:])
    if not numbers:
        return False
    text = numbers[-1].replace(",", "")
    want = Fraction(label)
    if "." in text or "e" in text.lower():
        try:
            got, target = float(text), float(want)
        except (ValueError, OverflowError):
            return False
        return math.isfinite(got) and math.isclose(got, target, rel_tol=rel_tol, abs_tol=1e-9)
    return _value(text) == want


def _value(text: str) -> Fraction | None:
    text = text.strip().strip("[]'\"").replace(",", "")
    if not text or len(text) > 100:
        return None
    try:
        if "e" in text.lower() or text.lower() in ("inf", "nan"):
            value = float(text)
            return Fraction(value) if math.isfinite(value) else None
        if "/" in text:
            num, den = text.split("/")
            return Fraction(num) / Fraction(den)
        return Fraction(text)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def _norm(text: str) -> str:
    return " ".join(text.split())
