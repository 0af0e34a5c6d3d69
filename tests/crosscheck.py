"""Cross-checking variant labels with real programs: put the new numbers into a program that
solved the original problem, run it in a separate process, and read the number it prints.

    program = "x = 16 - 3 - 4\\nprint(x * 2)"
    new = substitute_literals(program, {Fraction(16): "21"})   # "x = 21 - 3 - 4\\n..."
    [run] = run_programs([new])                                # ExecResult(stdout="28\\n", ...)
    agrees(run.stdout, "28")                                   # True

Model-written programs never run in the calling process: ``run_programs`` runs each in
``mathgen.sandbox`` (a fresh, locked-down process per program). ``plan`` decides whether a
literal substitution means what the variant means; ``cross_check`` does the whole check for
ToRA outputs on GSM8K. ``mathgen.generator.verify`` does the same check in the product, with
its own code (``ast`` where this uses ``tokenize``), so each checks the other.
"""

from __future__ import annotations

import io
import math
import re
import tokenize
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from mathgen.numbers import find_mentions

_PYTHON_BLOCK = re.compile(r"```python[ \t]*\n(.*?)```", re.DOTALL)
# a number as programs print it: 1,250.5  -3  .5  2e-05  15/2
_PRINTED_NUMBER = re.compile(
    r"-?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?(?:/\d+)?")

def extract_program(output: str) -> str | None:
    """The last ```python block of a model output (as ToRA runs it); None when there is none."""
    blocks = _PYTHON_BLOCK.findall(output)
    return blocks[-1] if blocks else None


def literal_value(token: str) -> Fraction | None:
    """Exact value of a Python NUMBER token ('2.50', '1_000', '1e3'); None for complex ones."""
    text = token.replace("_", "")
    if text[-1] in "jJ":
        return None
    if text[:2].lower() in ("0x", "0o", "0b"):
        return Fraction(int(text, 0))
    try:
        return Fraction(Decimal(text))
    except InvalidOperation:
        return None


def literal_counts(program: str) -> Counter:
    """How often each value is written as a number literal (strings and comments not read)."""
    return Counter(value for tok in _tokens(program) if tok.type == tokenize.NUMBER
                   for value in [literal_value(tok.string)] if value is not None)


def plan(substitutions, original_question: str, program: str,
         strict: bool = True) -> tuple[dict[Fraction, str] | None, str]:
    """The literal mapping that turns a program for the original into one for the variant.

    Returns ``(mapping, "checkable")``, or ``(None, reason)`` when substituting literals
    cannot be trusted to mean what the variant means:

    - ``ambiguous-value``: one old value became two different new values;
    - ``missing-literal``: a changed old value is not a literal of the program;
    - ``unchanged-mention`` (strict): the question also mentions the old value where it did
      not change, so a literal of that value may mean either;
    - ``literal-count`` (strict): the program writes the old value more or less often than
      the question mentions it: it hard-codes a number the question only implies ('twice'
      as 2, 'her mom and sister' as 2, 7 - 3 days as 4) or writes a mentioned number
      differently (20% as 0.20), so a literal substitution changes the wrong thing.

    Raises tokenize.TokenError or SyntaxError for a program Python cannot tokenize.
    """
    mapping: dict[Fraction, str] = {}
    changed: Counter = Counter()
    for old, new in substitutions:
        value = Fraction(old)
        if mapping.setdefault(value, new) != new:
            return None, "ambiguous-value"
        changed[value] += 1
    literals = literal_counts(program)
    if any(literals[value] == 0 for value in mapping):
        return None, "missing-literal"
    if strict:
        mentioned = Counter(m.value for m in find_mentions(original_question) if m.quantity)
        if any(mentioned[value] > count for value, count in changed.items()):
            return None, "unchanged-mention"
        if any(literals[value] != mentioned[value] for value in mapping):
            return None, "literal-count"
    return mapping, "checkable"


def substitute_literals(program: str, mapping: dict[Fraction, str]) -> str:
    """The program with every number literal whose value is a key replaced by its new value.

    Other tokens (names, strings, comments, layout) keep their exact text. A float literal
    stays a float ('20.0' -> '25.0', not '25'), so the program's arithmetic keeps its types.
    Raises tokenize.TokenError or SyntaxError for a program Python cannot tokenize.
    """
    lines = io.StringIO(program).readlines()
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    edits = []
    for tok in _tokens(program):
        if tok.type != tokenize.NUMBER:
            continue
        value = literal_value(tok.string)
        if value is None or value not in mapping:
            continue
        new = mapping[value]
        is_float = tok.string[:2].lower() != "0x" and re.search(r"[.eE]", tok.string)
        if is_float and "." not in new:
            new += ".0"
        (row, col), (end_row, end_col) = tok.start, tok.end
        edits.append((starts[row - 1] + col, starts[end_row - 1] + end_col, new))
    out, pos = [], 0
    for start, end, new in edits:
        out += [program[pos:start], new]
        pos = end
    out.append(program[pos:])
    return "".join(out)


def _tokens(program: str):
    return tokenize.generate_tokens(io.StringIO(program).readline)


def last_number(text: str) -> Fraction | float | None:
    """The last number in printed text, commas removed; exact when it is a plain decimal."""
    found = [m.group() for m in _PRINTED_NUMBER.finditer(text) if re.search(r"\d", m.group())]
    if not found:
        return None
    number = found[-1].replace(",", "")
    try:
        if "/" in number:
            num, den = number.split("/")
            return Fraction(Decimal(num)) / int(den) if int(den) else None
        if "e" in number.lower():
            return float(number)
        return Fraction(Decimal(number))
    except (InvalidOperation, ValueError, ZeroDivisionError):
        return None


def agrees(stdout: str, expected: str, rel_tol: float = 1e-6) -> bool:
    """Whether the last number a program printed equals ``expected`` (a plain decimal or p/q)."""
    got = last_number(stdout)
    if got is None:
        return False
    want = Fraction(expected)
    if isinstance(got, Fraction) and got == want:
        return True
    return math.isclose(float(got), float(want), rel_tol=rel_tol, abs_tol=1e-9)


def run_programs(programs: list[str], timeout: float = 2) -> list:
    """Run each program in ``mathgen.sandbox``; ExecResults in input order."""
    from mathgen import sandbox

    return sandbox.run_many(programs, timeout=timeout)


@dataclass(frozen=True)
class Pair:
    """One variant checked with one program: the program as substituted and what it printed."""

    variant: object  # mathgen.records.Variant
    model: str
    program: str
    substituted: str
    run: object  # mathgen.sandbox.ExecResult
    strict: bool  # checkable under plan(strict=True), not only under the loose rule

    @property
    def agrees(self) -> bool:
        return agrees(self.run.stdout, self.variant.final_answer)


@dataclass
class CrossCheck:
    """Checked pairs, and why the other (variant, program) pairs could not be checked.

    ``pairs`` are checkable under the strict rule of ``plan``; ``loose_pairs`` also holds
    those where only every changed number is a literal (``plan(strict=False)``).
    """

    loose_pairs: list[Pair]
    skipped: Counter  # reason -> pairs, for the strict rule

    @property
    def pairs(self) -> list[Pair]:
        return [p for p in self.loose_pairs if p.strict]

    @property
    def disagreeing(self) -> list[Pair]:
        return [p for p in self.pairs if not p.agrees]

    @property
    def agreement(self) -> float:
        return _rate(self.pairs)

    @property
    def loose_agreement(self) -> float:
        return _rate(self.loose_pairs)


def _rate(pairs: list[Pair]) -> float:
    return sum(p.agrees for p in pairs) / len(pairs) if pairs else 0.0


def _number(text) -> Fraction | None:
    try:
        return Fraction(str(text).replace(",", "").strip())
    except (ValueError, ZeroDivisionError):
        return None


def cross_check(variants, outputs: dict[str, dict[int, dict]], timeout: int = 2) -> CrossCheck:
    """Check each variant with every model program that solved its original problem.

    Args:
        variants: Variants of GSM8K test problems (``source_line`` is the 1-based row).
        outputs: model name -> ToRA output rows by ``idx`` (0-based row).

    A program solved the original when the model's ``pred`` equals ``gt`` and the program,
    run here unchanged, prints ``gt`` (some answers come from prose that corrects the
    program's output, such as a sign). Its substituted version must print the variant's label.
    """
    skipped, candidates = Counter(), []
    for variant in variants:
        for model, rows in outputs.items():
            row = rows.get(variant.source_line - 1)
            gt = _number(row["gt"]) if row else None
            if gt is None or _number(row["pred"][0]) != gt:
                skipped["model did not solve the original"] += 1
                continue
            program = extract_program(row["code"][0])
            if program is None:
                skipped["no program"] += 1
                continue
            try:
                _, reason = plan(variant.substitutions, variant.original_question, program)
                mapping, _ = plan(variant.substitutions, variant.original_question, program,
                                  strict=False)
            except (SyntaxError, tokenize.TokenError):
                mapping, reason = None, "program does not tokenize"
            if reason != "checkable":
                skipped[reason] += 1
            if mapping is not None:
                candidates.append((variant, model, str(gt), program,
                                   substitute_literals(program, mapping), reason == "checkable"))
    runs = run_programs([c[3] for c in candidates] + [c[4] for c in candidates], timeout)
    originals, substituted = runs[:len(candidates)], runs[len(candidates):]
    pairs = []
    for (variant, model, gt, program, new, strict), original, run in zip(
            candidates, originals, substituted):
        if agrees(original.stdout, gt):
            pairs.append(Pair(variant, model, program, new, run, strict))
        elif strict:
            skipped["program does not print gt"] += 1
    return CrossCheck(pairs, skipped)
