"""``mathgen perturb`` as a library call: files in, variants and rejections out, counts back."""

from __future__ import annotations

from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from mathgen.errors import MathgenError
from mathgen.formats import load_problems
from mathgen.io import AtomicJsonl
from mathgen.records import Rejection

from .perturb import DEFAULT_TRIES, perturb_all
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
        out = [f"read {self.problems} problems from {self.files} file(s)",
               f"wrote {self.variants} variants for {self.perturbed} problems"
               + (f" ({self.short} gave fewer than asked: {self.missing} variants short, "
                  "their numbers allow no more distinct draws)" if self.short else ""),
               f"rejected {sum(self.rejected.values())} problems"
               + (":" if self.rejected else "")]
        width = max((len(r) for r in self.rejected), default=0)
        out += [f"  {reason:<{width}}  {count}" for reason, count in self.rejected.most_common()]
        if self.verification is not None:
            out.append(self.verification.line())
        return out


def default_input() -> Path:
    """The problems shipped with mathgen, used when no input is given."""
    return Path(str(resources.files("mathgen.templates") / "defaults.jsonl"))


def perturb_files(inputs: Iterable[Path], output: Path, *, rejects: Path | None = None,
                  format: str | None = None, skip_invalid: bool = False,
                  strategy: str = "similar", n: int = 1, seed: int = 0, constrained: bool = True,
                  tries: int = DEFAULT_TRIES, workers: int = 1,
                  verify_with: Iterable[Path] = (), verify_timeout: float = 5.0,
                  progress: Callable[[int], None] | None = None) -> Summary:
    """Perturb every problem of every input file; write variants (and rejections) as JSONL.

    Nothing is lost: every input row ends as variants in ``output`` or as a rejection counted
    in the summary (and written to ``rejects`` when given). With ``verify_with`` (program
    files), each variant is checked with the programs that solved its original
    (``generator.verify``); a contradicted variant becomes a ``program-disagrees`` rejection.
    """
    inputs = [Path(p) for p in inputs] or [default_input()]
    if rejects is not None and Path(rejects).resolve() == Path(output).resolve():
        raise MathgenError(f"{rejects}: the rejections file must differ from the output")
    summary = Summary(files=len(inputs))
    names = source_names(inputs)
    programs = load_programs(verify_with) if verify_with else None
    if programs is not None:
        summary.verification = Verification()

    def problems():
        for path, name in zip(inputs, names):
            yield from load_problems(path, format=format, skip_invalid=skip_invalid, name=name)

    with AtomicJsonl(output) as out, \
            (AtomicJsonl(rejects) if rejects is not None else nullcontext()) as rej:
        results = perturb_all(problems(), strategy=strategy, n=n, seed=seed,
                              constrained=constrained, tries=tries, workers=workers)
        if programs is not None:
            results = _checked(results, programs, summary.verification, verify_timeout)
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
            if isinstance(result, Rejection):
                summary.rejected[result.reason] += 1
                if rej is not None and result.reason != "program-disagrees":
                    rej.write(result.to_json())
            else:
                summary.perturbed += 1
                summary.variants += len(result)
                drawn = len(result) + len(contradicted)  # programs rejected the others
                if drawn < n:
                    summary.short += 1
                    summary.missing += n - drawn
                for variant in result:
                    out.write(variant.to_json())
            if progress is not None:
                progress(1)
    return summary


def _checked(results, programs, tally, timeout):
    """``verify`` over chunks of results, in order (programs run on every CPU)."""
    chunk = []
    for result in results:
        chunk.append(result)
        if len(chunk) == _VERIFY_CHUNK:
            yield from verify(chunk, programs, timeout=timeout, tally=tally)
            chunk = []
    if chunk:
        yield from verify(chunk, programs, timeout=timeout, tally=tally)


def source_names(inputs: list[Path]) -> list[str]:
    """Names for source ids: the file's stem ('test'), or, where two inputs share a stem,
    its folder too ('gsm8k/test'), so every id stays unique."""
    stems = [p.stem for p in inputs]
    names = [f"{p.parent.name}/{p.stem}" if stems.count(p.stem) > 1 else p.stem for p in inputs]
    if len(set(names)) != len(names):
        raise MathgenError("two inputs would give the same source ids: "
                           + ", ".join(str(p) for p in inputs))
    return names
