"""The GSM-HARD audit: which of its items are sensible, and which labels are broken.

GSM-HARD (Gao et al., PAL, 2023) took each GSM8K test problem, replaced one number of the
question and of its PAL program with a large random one, and used whatever the program
returned as the label. Each item is classed here, against the GSM8K question it came from:

==========================  ===============================================================
negative                    the label is below zero (eggs sold: -9,867,630)
non_integer                 the label is not a whole number; float noise within 16 units in
                            the last place (153957439.99999997) counts as whole
unchanged                   the question is GSM8K's, word for word (only the program changed)
text_program_mismatch       a number the question gained is not in the program, or the
                            program holds a large number (5 or more digits) that neither
                            question states ('8387270 classes ... 18387270 students')
label_mismatch              re-running the program (in ``mathgen.sandbox``) does not return
                            the label, or the program fails
==========================  ===============================================================

Programs run only in the sandbox, never in this process.
"""

from __future__ import annotations

import ast
import math
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from mathgen.errors import InputError
from mathgen.io import read_rows, write_jsonl
from mathgen.numbers import find_mentions
from mathgen.wording import counted

CLASSES = ("negative", "non_integer", "negative_or_non_integer", "unchanged",
           "text_program_mismatch", "label_mismatch")
_NOISE_ULPS = 16
_LARGE_DIGITS = 5


@dataclass(frozen=True)
class AuditItem:
    """One GSM-HARD item and its classes (``source_line``: its GSM8K row, None if not found)."""

    line: int
    source_line: int | None
    target: float
    negative: bool
    non_integer: bool
    non_integer_exact: bool  # without the float-noise tolerance
    unchanged: bool
    text_program_mismatch: bool
    numbers_not_in_program: tuple[str, ...]
    numbers_not_in_question: tuple[str, ...]
    label_mismatch: bool
    program_status: str  # the sandbox status, e.g. ok, error, timeout
    program_result: str  # what solution() returned (repr), or the error's last line

    def to_json(self) -> dict:
        out = asdict(self)
        out["negative_or_non_integer"] = self.negative or self.non_integer
        out["numbers_not_in_program"] = list(self.numbers_not_in_program)
        out["numbers_not_in_question"] = list(self.numbers_not_in_question)
        return out


@dataclass(frozen=True)
class Audit:
    items: tuple[AuditItem, ...]
    unmatched: int  # items whose GSM8K question was not found

    def summary(self) -> dict:
        counts = {"total": len(self.items)}
        for name in CLASSES:
            counts[name] = sum(item.to_json()[name] for item in self.items)
        counts["non_integer_exact"] = sum(i.non_integer_exact for i in self.items)
        counts["sensible"] = sum(not (i.negative or i.non_integer) for i in self.items)
        counts["unmatched"] = self.unmatched
        return counts


def is_float_noise_integer(value: float) -> bool:
    """Whether a float is a whole number up to rounding noise of a few units in the last place."""
    return abs(value - round(value)) <= _NOISE_ULPS * math.ulp(value)


def audit_gsm_hard(path, gsm8k_path, *, timeout: float = 5.0, workers: int | None = None) -> Audit:
    """Class every item of a GSM-HARD file against the GSM8K file it was made from."""
    from mathgen import sandbox

    rows = list(_gsm_hard_rows(Path(path)))
    sources = _gsm8k_questions(Path(gsm8k_path))
    runs = sandbox.run_many([code + "\n\nprint(repr(solution()))\n" for _, _, code, _ in rows],
                            timeout=timeout, workers=workers)
    items, unmatched = [], 0
    for (line, question, code, target), run in zip(rows, runs):
        # the program's docstring keeps the GSM8K question the item was made from
        source_line, original = sources.get(_norm(question)) \
            or sources.get(_norm(_docstring(code))) or (None, "")
        unmatched += source_line is None
        not_in_program, not_in_question = _number_mismatch(question, original, code)
        result, returned = _returned(run)
        items.append(AuditItem(
            line=line, source_line=source_line, target=target,
            negative=target < 0,
            non_integer=not is_float_noise_integer(target),
            non_integer_exact=not float(target).is_integer(),
            unchanged=source_line is not None and _norm(question) == _norm(original),
            text_program_mismatch=bool(not_in_program or not_in_question),
            numbers_not_in_program=not_in_program, numbers_not_in_question=not_in_question,
            label_mismatch=returned is None or not math.isclose(returned, target, rel_tol=1e-9,
                                                                abs_tol=1e-9),
            program_status=run.status, program_result=result))
    return Audit(tuple(items), unmatched)


def write_items(audit: Audit, path) -> int:
    return write_jsonl(path, (item.to_json() for item in audit.items))


def table(audit: Audit) -> list[str]:
    counts = audit.summary()
    total = counts["total"] or 1
    lines = [f"{'class':<26}{'items':>7}{'share':>9}"]
    for name in ("total",) + CLASSES + ("sensible",):
        lines.append(f"{name:<26}{counts[name]:>7}{counts[name] / total:>9.1%}")
        if name == "non_integer":
            exact = counts["non_integer_exact"]
            lines.append(f"{'  without noise tolerance':<26}{exact:>7}{exact / total:>9.1%}")
    if audit.unmatched:
        lines.append(f"({counted(audit.unmatched, 'item')} not found in the GSM8K file: "
                     "'unchanged' and "
                     "the text check treat them as new questions)")
    return lines


def _gsm_hard_rows(path: Path):
    for line, row in read_rows(path):
        for field in ("input", "code"):
            if not isinstance(row.get(field), str) or not row[field].strip():
                raise InputError("missing or not a string", path=path, line=line, field=field,
                                 hint="GSM-HARD rows have 'input', 'code' and 'target'")
        target = row.get("target")
        try:
            if isinstance(target, bool) or not isinstance(target, (int, float)) \
                    or not math.isfinite(float(target)):
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            raise InputError("must be a finite number", path=path, line=line, field="target",
                             hint="GSM-HARD rows carry the program's output as 'target'") from None
        yield line, row["input"], row["code"], float(target)


def _gsm8k_questions(path: Path) -> dict[str, tuple[int, str]]:
    """GSM8K questions by their whitespace-normalised text: (line, question)."""
    out: dict[str, tuple[int, str]] = {}
    for line, row in read_rows(path):
        if not isinstance(row.get("question"), str):
            raise InputError("missing or not a string", path=path, line=line, field="question",
                             hint="--gsm8k takes GSM8K's test.jsonl (question, answer)")
        out.setdefault(_norm(row["question"]), (line, row["question"]))
    return out


def _norm(text: str) -> str:
    return " ".join(text.split())


def _function(code: str):
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return None
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    return funcs[0] if funcs else None


def _docstring(code: str) -> str:
    func = _function(code)
    return (ast.get_docstring(func) or "") if func is not None else ""


def _literals(code: str) -> set[Fraction]:
    func = _function(code)
    if func is None:
        return set()
    return {Fraction(str(n.value)) for n in ast.walk(func) if isinstance(n, ast.Constant)
            and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)
            and math.isfinite(n.value)}


def _number_mismatch(question: str, original: str, code: str):
    """Numbers the question gained that the program lacks; large program numbers no question
    states. A percent may be written as a fraction of 100 in the program (20% as 0.2)."""
    literals = _literals(code)
    mentions = find_mentions(question)
    stated = {m.value for m in mentions} | {m.value for m in find_mentions(original)}
    before = {m.value for m in find_mentions(original)} if original else set()

    def forms(v):
        return {v, v / 100, v * 100}

    gained = [m for m in mentions if m.kind == "digits" and m.value not in before]
    missing = tuple(dict.fromkeys(m.text for m in gained if not forms(m.value) & literals))
    unstated = tuple(str(v) for v in sorted(literals) if v >= 10 ** (_LARGE_DIGITS - 1)
                     and not any(v in forms(s) for s in stated))
    return missing, unstated


def _returned(run) -> tuple[str, float | None]:
    """What solution() returned, as text, and as a number when it is one."""
    if run.status != "ok":
        tail = (run.stderr or "").strip().splitlines()
        return (tail[-1] if tail else run.status), None
    text = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    try:
        value = float(text)
    except ValueError:
        return text, None
    return text, value if math.isfinite(value) else None
