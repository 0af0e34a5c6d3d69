"""``mathgen perturb`` as a library call: files in, variants and rejections out, counts back."""

from __future__ import annotations

import re
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from mathgen.errors import InputError, MathgenError, UnsupportedProblem
from mathgen.formats import load_problems
from mathgen.io import AtomicJsonl, open_records, stem
from mathgen.records import Rejection
from mathgen.wording import counted

from . import strategies
from .perturb import DEFAULT_TRIES, perturb_all, sample
from .symbolic import SymbolicProblem
from .verify import Verification, load_programs, verify

_VERIFY_CHUNK = 256  # problems whose programs run in one sandbox batch


@dataclass
class Summary:
    files: int = 0
    problems: int = 0
    perturbed: int = 0  # problems that gave at least one variant
    variants: int = 0
    short: int = 0  # problems that gave some variants, but fewer than asked for
    missing: int = 0
    rejected: Counter = field(default_factory=Counter)
    verification: Verification | None = None  # with --verify-with

    def lines(self) -> list[str]:
        out = [f"read {counted(self.problems, 'problem')} from {counted(self.files, 'file')}",
               f"wrote {counted(self.variants, 'variant')} for "
               f"{counted(self.perturbed, 'problem')}"
               + (f" ({self.short} gave fewer than asked: {counted(self.missing, 'variant')} "
                  "short, their numbers allow no more distinct draws)" if self.short else ""),
               f"rejected {counted(sum(self.rejected.values()), 'problem')}"
               + (":" if self.rejected else "")]
        width = max((len(r) for r in self.rejected), default=0)
        out += [f"  {reason:<{width}}  {count}" for reason, count in self.rejected.most_common()]
        if self.verification is not None:
            out.append(self.verification.line())
        return out


def example_problems() -> Path:
    """A dozen GSM8K-format problems shipped with mathgen, written for it."""
    return Path(str(resources.files("mathgen.templates") / "defaults.jsonl"))


def library() -> Path:
    """The folder of mathgen's own templates, used when no input is given."""
    return Path(str(resources.files("mathgen.templates") / "library"))


TEMPLATE_FORMATS = ("template", "gsm-symbolic")


def is_template(path: Path, format: str | None = None) -> bool:
    """Whether an input is read as templates: a folder, a '.jinja' file, or a GSM-Symbolic
    '.json' file (one JSON object with 'question_annotated')."""
    from mathgen.hfdata import is_dataset

    if is_dataset(path):
        return False
    path = Path(path)
    if format in TEMPLATE_FORMATS or path.is_dir() or path.suffix == ".jinja":
        return True
    if path.suffix != ".json" or format is not None:
        return False
    try:
        with open(path, "rb") as handle:
            return b"question_annotated" in handle.read(1 << 16)
    except OSError:
        return False


def template_files(paths: Iterable[Path]) -> list[Path]:
    """Template files of the given files and folders (folders: every '.jinja' and '.json'
    file below them, sorted)."""
    out = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".jinja", ".json"))
            if not found:  # a folder that selects nothing is a mistake, not an empty run
                raise InputError("the folder holds no template ('.jinja' or GSM-Symbolic "
                                 "'.json' files)", path=path, hint=_empty_folder_hint(path))
            out += found
        elif not path.exists():
            raise MathgenError(f"{path}: no such file or folder")
        elif path.suffix == ".jsonl":  # problems, where templates were asked for
            raise InputError("a JSONL file of problems is not a template", path=path,
                             hint="give problem files as INPUT, templates as '.jinja' or "
                                  "GSM-Symbolic '.json' files")
        else:
            out.append(path)
    return out


def _empty_folder_hint(folder: Path) -> str:
    if any(p.suffix == ".jsonl" for p in folder.rglob("*.jsonl")):
        return (f"a folder is read as templates; give its JSONL problem files themselves, "
                f"e.g. {folder / '*.jsonl'}")
    return "give a folder of '.jinja' or '.json' templates, or no input for mathgen's library"


def check_tags(tags: set[str], skills: set[str] | None) -> None:
    """Refuse a ``--tag`` that selected nothing: ``skills`` are those of the templates read
    (None when no template was read at all)."""
    if skills is None:
        raise MathgenError(f"--tag {sorted(tags)[0]}: no template to select from, the inputs "
                           "are problem files (hint: add --templates PATH, or give no INPUT "
                           "for mathgen's library)")
    missing = sorted(tags - skills)
    if missing:
        raise MathgenError(f"--tag {missing[0]}: no template has this tag (hint: tags of the "
                           f"templates read: {', '.join(sorted(skills)) or 'none'})")


def load_template(path: Path, source_id: str, format: str | None = None):
    """A Template from a file of either template format."""
    if path.suffix == ".jinja" or format == "template":
        from .library import load

        return load(path, source_id)
    from .gsm_symbolic import load

    return load(path, source_id)


def perturb_files(inputs: Iterable[Path], output: Path, *, rejects: Path | None = None,
                  format: str | None = None, skip_invalid: bool = False,
                  strategy: str = "similar", n: int = 1, seed: int = 0, constrained: bool = True,
                  tries: int = DEFAULT_TRIES, workers: int = 1,
                  verify_with: Iterable[Path] = (), verify_timeout: float = 5.0,
                  templates: Iterable[Path] = (), tags: Iterable[str] = (),
                  progress: Callable[[int], None] | None = None,
                  cache: bool | Path = True) -> Summary:
    """Perturb every problem of every input file; write variants (and rejections) as JSONL.

    Nothing is lost: every input row ends as variants in ``output`` or as a rejection counted
    in the summary (and written to ``rejects`` when given). With ``verify_with`` (program
    files), each variant is checked with the programs that solved its original
    (``generator.verify``); a contradicted variant becomes a ``program-disagrees`` rejection.

    Templates (folders, '.jinja' files, GSM-Symbolic '.json' files, and ``templates``) give
    ``n`` instances each; with no input at all, mathgen's own library is used. ``tags``
    keeps the templates with any of these skills (or ``steps:N``).

    ``cache``: True reads and keeps symbolic forms in the user's cache folder
    (``generator.cache``), a path keeps them there, False reads every problem afresh; the
    output is the same either way.
    """
    inputs = [Path(p) for p in inputs]
    templates = [Path(p) for p in templates] + [p for p in inputs if is_template(p, format)]
    inputs = [p for p in inputs if not is_template(p, format)]
    if not inputs and not templates:
        templates = [library()]
    if rejects is not None and Path(rejects).resolve() == Path(output).resolve():
        raise MathgenError(f"{rejects}: the rejections file must differ from the output")
    template_paths = template_files(templates)
    summary = Summary(files=len(inputs) + len(template_paths))
    names = source_names(inputs)
    programs = load_programs(verify_with) if verify_with else None
    if programs is not None:
        summary.verification = Verification()

    def problems():
        for path, name in zip(inputs, names):
            yield from load_problems(path, format=format, skip_invalid=skip_invalid, name=name)

    skills: set[str] = set()
    with open_records(output) as out, \
            (AtomicJsonl(rejects) if rejects is not None else nullcontext()) as rej:
        for result in _from_templates(template_paths, format, skip_invalid, set(tags),
                                      strategy, n, seed, tries, constrained, summary, skills):
            summary.problems += 1
            _count(summary, result, n, out, rej)
            if progress is not None:
                progress(1)
        if tags:
            check_tags(set(tags), skills if template_paths else None)
        results = perturb_all(problems(), strategy=strategy, n=n, seed=seed,
                              constrained=constrained, tries=tries, workers=workers,
                              cache=_open_cache(cache))
        if programs is not None:
            results = _checked(results, programs, summary.verification, verify_timeout,
                               workers)
        for result in results:
            summary.problems += 1
            contradicted = []
            if isinstance(result, tuple):  # checked: kept variants, contradicted ones
                result, contradicted = result
                for rejection in contradicted:
                    if rej is not None:
                        rej.write(rejection.to_json())
                if not result:
                    result = contradicted[0]
            _count(summary, result, n, out, rej, drawn=len(contradicted))
            if progress is not None:
                progress(1)
    return summary


def draw_templates(paths: Iterable[Path], *, n: int, seed: int = 0, strategy: str = "similar",
                   tags: Iterable[str] = (), tries: int = DEFAULT_TRIES,
                   format: str | None = None) -> list:
    """Up to ``n`` variants of each template of ``paths`` (files or folders), drawn as
    ``perturb`` draws them: a list of variant lists, or a Rejection for a template that gives
    none, in file order. ``tags`` keeps the templates with any of them, and one that no
    template has is a MathgenError."""
    files = template_files(paths)
    skills: set[str] = set()
    out = list(_from_templates(files, format, False, set(tags), strategy, n, seed, tries, True,
                               Summary(files=len(files)), skills))
    if tags:
        check_tags(set(tags), skills)
    return out


def _open_cache(cache: bool | Path):
    if cache is False or cache is None:
        return None
    from .cache import SymbolicCache

    return SymbolicCache.open(None if cache is True else Path(cache))


def _count(summary, result, n, out, rej, drawn=0):
    if isinstance(result, Rejection):
        summary.rejected[result.reason] += 1
        if rej is not None and result.reason != "program-disagrees":
            rej.write(result.to_json())
        return
    summary.perturbed += 1
    summary.variants += len(result)
    drawn += len(result)  # programs may have rejected the others
    if drawn < n:
        summary.short += 1
        summary.missing += n - drawn
    for variant in result:
        out.write(variant.to_json())


def _from_templates(paths, format, skip_invalid, tags, strategy, n, seed, tries, constrained,
                    summary, skills):
    """Variants (or a Rejection) for each template file, in order; templates without one of
    ``tags`` are skipped and not counted. The skills of every template read go to ``skills``."""
    from .instances import variants
    from .template import TemplateError

    strategies.check(strategy)
    for path, name in zip(paths, source_names(paths)):
        try:
            template = load_template(path, name, format)
        except TemplateError as err:
            if not skip_invalid:
                raise
            yield Rejection(name, 1, "invalid-template", str(err))
            continue
        except UnsupportedProblem as err:
            yield Rejection(name, 1, err.reason, err.detail)
            continue
        symbolic = isinstance(template, SymbolicProblem)  # written by templatize
        if not symbolic:
            skills.update(template.skills)
        if tags and (symbolic or not tags & set(template.skills)):
            summary.files -= 1
            continue
        if strategy == strategies.DISTRACTOR:
            from .distractors import add

            yield add(template.problem if symbolic else template.problem(), n, seed)
            continue
        if symbolic:  # drawn exactly as its source is
            yield sample(template, strategy, n, seed, constrained, tries)
            continue
        try:
            yield variants(template, n, seed, strategy, tries)
        except UnsupportedProblem as err:
            yield Rejection(name, 1, err.reason, err.detail)
        except TemplateError as err:  # the user's own template is wrong: said as on loading
            if not skip_invalid:
                raise
            yield Rejection(name, 1, "invalid-template", str(err))
        except (MathgenError, ArithmeticError, LookupError, TypeError, ValueError,
                RecursionError) as err:
            # a template that fails while its instances are drawn is one rejection naming
            # its file; the other templates of the run still give theirs
            yield Rejection(name, 1, "template-error", f"{path}: {type(err).__name__}: {err}")


def _checked(results, programs, tally, timeout, workers):
    """``verify`` over chunks of results, in order, the programs of a chunk in ``workers``
    sandbox processes (while a worker pool, when there is one, perturbs the next chunks)."""
    chunk = []
    for result in results:
        chunk.append(result)
        if len(chunk) == _VERIFY_CHUNK:
            yield from verify(chunk, programs, timeout=timeout, tally=tally, workers=workers)
            chunk = []
    if chunk:
        yield from verify(chunk, programs, timeout=timeout, tally=tally, workers=workers)


def source_names(inputs: list[Path]) -> list[str]:
    """Names for source ids: the file's stem ('test'), or, where two inputs share a stem,
    its folder too ('gsm8k/test'), so every id stays unique."""
    from mathgen.hfdata import folder, is_dataset

    stems = [stem(p) for p in inputs]
    names = [f"{folder(p) if is_dataset(p) else p.parent.name}/{s}" if stems.count(s) > 1
             else s for p, s in zip(inputs, stems)]
    if len(set(names)) != len(names):
        raise MathgenError("two inputs would give the same source ids: "
                           + ", ".join(str(p) for p in inputs))
    return names


def templatize_files(inputs: Iterable[Path], folder: Path, *, format: str | None = None,
                     skip_invalid: bool = False, rejects: Path | None = None) -> Summary:
    """Write the symbolic form of every problem that ``perturb`` accepts as a template file
    in ``folder`` (named after its source id); the others are counted as rejections."""
    from mathgen.errors import UnsupportedProblem as Unsupported

    from . import templatize
    from .symbolic import build

    inputs = [Path(p) for p in inputs]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    summary = Summary(files=len(inputs))
    with (AtomicJsonl(rejects) if rejects is not None else nullcontext()) as rej:
        for path, name in zip(inputs, source_names(inputs)):
            for item in load_problems(path, format=format, skip_invalid=skip_invalid, name=name):
                summary.problems += 1
                if not isinstance(item, Rejection):
                    try:
                        text = templatize.write(build(item))
                    except (Unsupported, MathgenError) as err:
                        item = Rejection(item.source_id, item.source_line,
                                         getattr(err, "reason", "cannot-write"),
                                         getattr(err, "detail", str(err)))
                if isinstance(item, Rejection):
                    summary.rejected[item.reason] += 1
                    if rej is not None:
                        rej.write(item.to_json())
                    continue
                target = folder / (re.sub(r"[^\w.-]+", "-", item.source_id) + ".jinja")
                target.write_text(text, encoding="utf-8")
                summary.perturbed += 1
                summary.variants += 1
    return summary
