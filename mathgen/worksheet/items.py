"""The problems of a worksheet: drawn from templates as ``mathgen perturb`` draws them, or read
from problem files (the variants ``perturb`` writes, GSM8K and the other formats), put in an
order set by the seed, with their worked solutions written as a reader sees them::

    Item(number=1, question="Jamal bakes four trays of oatmeal cookies, ...",
         steps=("Jamal bakes 4 × 17 = 68 cookies.", ..., "Each friend gets 55 ÷ 5 = 11 cookies."),
         answer="11", source="c-cookie-sharing")

The order: the sources (a template, or one problem of a file) are shuffled with
``random.Random(f"{seed}/worksheet")``, then dealt round by round, the first instance of each
source before the second of any, so a sheet of N problems shows as many different problems as
the inputs allow.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from mathgen.errors import MathgenError
from mathgen.numbers import parse_answer, plain
from mathgen.records import Rejection
from mathgen.wording import counted

_ANNOTATION = re.compile(r"<<[^<>]*>>")
_FINAL = re.compile(r"^####.*$", re.MULTILINE)
# '9 * 2' and '(4+3)*5' are multiplications wherever they stand in GSM8K's solutions; a '/'
# is a division only between spaces ('55 / 5'), since '1/2' and 'km/h' are written so too
_TIMES = re.compile(r"(?<=[\w)%.])[ \t]*\*[ \t]*(?=[\w($.])")
_DIVIDE = re.compile(r"(?<=[\w)%]) / (?=[\w($])")


@dataclass(frozen=True)
class Item:
    """One numbered problem of a sheet, with what its answer key shows."""

    number: int
    question: str
    steps: tuple[str, ...]
    answer: str
    source: str


@dataclass(frozen=True)
class Sheet:
    """What the PDF and HTML writers draw: the problems and the page settings."""

    title: str
    items: tuple[Item, ...]
    seed: int
    paper: str = "a4"  # or "letter"
    room: float = 5.0  # centimetres of room to work under each problem


def readable(solution: str) -> tuple[str, ...]:
    """The lines of a worked solution as a reader sees them: without the calculator
    annotations and the '#### N' line, with × and ÷ for '*' and ' / '."""
    text = _FINAL.sub("", _ANNOTATION.sub("", solution))
    lines = []
    for line in text.splitlines():
        line = _DIVIDE.sub(" ÷ ", _TIMES.sub(" × ", line)).strip()
        if line:
            lines.append(line)
    return tuple(lines)


_WRITTEN = re.compile(r"(?<![\w.,])-?[$€£]?\d[\d,]*(?:\.\d+)?(?![\w,]|\.\d)")


def written_answer(steps: tuple[str, ...], answer: str) -> str:
    """The final answer as the last step writes it ('$71.30', '1,250') where that step ends
    on a number of the same value; else ``answer`` as it is ('71.3')."""
    if not steps:
        return answer
    try:
        value = parse_answer(answer)
    except ValueError:
        return answer
    for token in reversed(_WRITTEN.findall(steps[-1])):
        try:
            same = parse_answer(re.sub(r"[€£,]", "", token)) == value
        except ValueError:
            continue
        if same:
            return token
    return answer


@dataclass
class _Source:
    name: str
    entries: list  # (question, solution, answer) in drawing order


def collect(inputs: Iterable[Path], *, n: int, seed: int = 0, strategy: str = "similar",
            tags: Iterable[str] = (), templates: Iterable[Path] = (), format: str | None = None,
            keep_order: bool = False, tries: int = 500) -> tuple[list[Item], list[str]]:
    """Up to ``n`` items from the inputs, and lines that say what was left out and why.

    Templates (folders, '.jinja', GSM-Symbolic '.json', and ``templates``) give instances
    drawn with ``seed`` and ``strategy``, as ``mathgen perturb`` draws them; with no input at
    all, mathgen's own library. Problem files give their problems as they are (``format``
    forces their format, as for ``perturb``). ``tags`` keeps the templates with any of these
    skills. ``keep_order`` deals the sources in input order instead of shuffling them.
    """
    from mathgen.formats import load_problems
    from mathgen.generator.run import is_template, library, source_names

    inputs = [Path(p) for p in inputs]
    template_paths = [Path(p) for p in templates] + [p for p in inputs
                                                      if is_template(p, format)]
    files = [p for p in inputs if not is_template(p, format)]
    if not inputs and not template_paths:
        template_paths = [library()]
    tags = set(tags)
    if not template_paths and (tags or strategy != "similar"):
        option = f"--tag {sorted(tags)[0]}" if tags else f"--strategy {strategy}"
        raise MathgenError(f"{option}: applies to templates, and the inputs are problem files, "
                           "printed as they are (hint: give templates, or no INPUT for "
                           "mathgen's library)")
    notes: list[str] = []
    file_sources = []
    skipped = 0
    for path, name in zip(files, source_names(files)):
        for problem in load_problems(path, format=format, name=name):
            if isinstance(problem, Rejection):  # a model's solution marked wrong, say
                skipped += 1
                continue
            file_sources.append(_Source(problem.source_id, [(
                problem.question, problem.solution, plain(problem.final_answer))]))
    if skipped:
        notes.append(f"left out {counted(skipped, 'problem')} of the problem files with no "
                     "right solution to print (such as a solution marked wrong, or steps that "
                     "do not give the label)")
    template_sources = _from_templates(template_paths, n - len(file_sources), seed, strategy,
                                       tags, tries, notes) if template_paths else []
    sources = template_sources + file_sources
    if not keep_order:
        random.Random(f"{seed}/worksheet").shuffle(sources)
    chosen = _deal(sources, n)
    if not chosen:
        raise MathgenError("no problem to put on the worksheet: "
                           + ("; ".join(notes) or "the inputs hold none"))
    if len(chosen) < n:
        notes.append(f"only {len(chosen)} of the {n} problems asked for: the inputs allow no "
                     "more distinct ones")
    items = []
    for number, (source, (question, solution, answer)) in enumerate(chosen, 1):
        steps = readable(solution)
        items.append(Item(number, question, steps, written_answer(steps, answer), source))
    return items, notes


def _from_templates(paths, wanted, seed, strategy, tags, tries, notes) -> list[_Source]:
    """One source per template with as many instances as a sheet of ``wanted`` more problems
    needs: those ``mathgen perturb -n PER`` draws, PER 1 where the templates suffice."""
    from mathgen.generator.run import draw_templates

    per = 1
    while True:
        results = draw_templates(paths, n=per, seed=seed, strategy=strategy, tags=tags,
                                 tries=tries)
        sources = [_Source(group[0].source_id, [(v.question, v.answer, v.final_answer)
                                                for v in group])
                   for group in results if group and not isinstance(group, Rejection)]
        full = sum(len(s.entries) == per for s in sources)
        have = sum(len(s.entries) for s in sources)
        if have >= wanted or not full:
            break
        per += math.ceil((wanted - have) / full)
    rejected = [r for r in results if isinstance(r, Rejection)]
    if rejected:
        reasons = sorted({r.reason for r in rejected})
        notes.append(f"left out {len(rejected)} of {len(results)} templates that give no "
                     f"problem under {strategy} ({', '.join(reasons)})")
    return sources


def _deal(sources: list[_Source], n: int) -> list[tuple[str, tuple]]:
    """The first entry of every source, then the second of every source that has one, ...,
    until ``n``."""
    out = []
    depth = 0
    while len(out) < n and any(len(s.entries) > depth for s in sources):
        for source in sources:
            if len(source.entries) > depth:
                out.append((source.name, source.entries[depth]))
                if len(out) == n:
                    break
        depth += 1
    return out
