"""The MMOS recipe: from sampled reasoning paths to a minimal optimal fine-tuning set.

    summary = build(["gsm8k=samples.jsonl"], "train.jsonl", k=3, mix={"gsm8k": Fraction(1)})

Input rows are ToRA outputs (``question``, ``gt``, ``code``: a list of full model outputs) or
``{question, answer, completions: [...]}`` (an ``answer`` ending in ``#### N`` gives N). A
source is named ``NAME=FILE`` or after the file (its name up to the first dot), and files of
one source pool their paths by question (the whitespace-normalised question text and the
exact gold answer). ``training.paths`` reads the rows and judges each path's answer.

Each path goes through these stages, and the first it fails is its rejection reason:

=================  ==========================================================================
cut off            a ```` ```python ```` block was opened and never closed
no answer          no final answer found in the path (``mathgen.answers.extract``)
wrong answer       the answer is not the gold one (exactly, as ``mathgen.answers.grade``)
no output          a program has no ```` ```output ```` block after it
not reproduced     running the program in ``mathgen.sandbox`` does not print the output the
                   path shows (both failing counts as the same)
duplicate          another path of the question has the same normal form
                   (``training.normalise``)
beyond k           not among the k most diverse paths of its question (``training.select``)
left out           the question was not drawn for the mix (a ratio below 1)
=================  ==========================================================================

The set depends on the inputs, ``k``, the mix and its seed only, with one caveat: a program
that runs past ``timeout`` fails, so on a loaded machine a slow program can count as not
reproduced; keep the timeout well above what the programs need (the default is 5 s).

The set is written in source order (as given), questions in the order first seen, and each
question's paths in the order they were chosen; ``mathgen train`` shuffles. Lines are
``{"prompt": "<|user|>\\n{question}\\n<|assistant|>\\n", "completion", "source",
"question_id"}``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from mathgen.errors import MathgenError
from mathgen.io import AtomicJsonl, open_records, write_text
from mathgen.numbers import plain
from mathgen.wording import counted

from .paths import gold_value, graded, read_samples, source, text_form
from .select import Distinct, k_table, mix_copies, most_diverse

STAGES = ("cut off", "no answer", "wrong answer", "no output", "not reproduced", "duplicate",
          "beyond k", "left out")
RUNS_KEPT = 100_000  # program results remembered, so a program shared by paths runs once



@dataclass
class _Question:
    id: str
    text: str
    gold: str
    value: Fraction | None  # the gold answer's exact value; None when it is symbolic
    file: str
    line: int
    paths: Distinct = field(default_factory=Distinct)
    correct: int = 0


@dataclass
class _Path:
    source: str
    question: _Question
    file: str
    line: int
    index: int  # position in the row's list of outputs
    text: str
    answer: str = ""  # the graded answer, exact, for the normal form
    steps: list | None = None  # its programs and their outputs, until they are checked


@dataclass
class BuildSummary:
    output: Path
    paths: int = 0
    rows: int = 0
    rejected: Counter = field(default_factory=Counter)
    sources: dict = field(default_factory=dict)  # name -> per-source counts
    written: int = 0
    programs: int = 0  # distinct programs run
    table: list = field(default_factory=list)
    seconds: Counter = field(default_factory=Counter)  # per stage, for benchmarks

    def stats(self) -> dict:
        kept = self.paths - sum(self.rejected.values())
        return {"paths": self.paths, "rows": self.rows, "kept": kept, "written": self.written,
                "rejected": {s: self.rejected.get(s, 0) for s in STAGES},
                "programs_run": self.programs, "sources": self.sources, "k_vs_n": self.table}

    def lines(self) -> list[str]:
        kept = self.paths - sum(self.rejected.values())
        questions = sum(s['questions'] for s in self.sources.values())
        out = [f"read {counted(self.paths, 'path')} of {counted(questions, 'question')} from "
               f"{counted(self.rows, 'row')}; ran {counted(self.programs, 'distinct program')}"]
        out += [f"  {stage}: {self.rejected[stage]}" for stage in STAGES if self.rejected[stage]]
        out.append(f"  kept: {kept}")
        for name, s in self.sources.items():
            out.append(f"source {name}: {counted(s['questions'], 'question')}, "
                       f"{s['with_correct']} with a correct path, {counted(s['kept'], 'path')} "
                       f"kept, {counted(s['written'], 'line')} written "
                       f"(ratio {s['ratio']})")
        out.append(f"wrote {counted(self.written, 'line')} to {self.output}")
        return out


def _same_output(recorded: str, run: tuple[str, str]) -> bool:
    """Whether a run (status, what it showed) printed what the path shows (both failing
    counts as the same)."""
    from mathgen.robustness.prompts import _FAILED

    status, shown = run
    if status != "ok":
        last = recorded.strip().splitlines()[-1:] or [""]
        return bool(_FAILED.match(last[0].strip()))
    clean = lambda s: "\n".join(ln.rstrip() for ln in s.strip().splitlines())  # noqa: E731
    return clean(shown) == clean(recorded)


def _form(args: tuple[str, str]) -> str:
    from .normalise import normal_form

    return normal_form(*args)


class _Builder:
    """The stages of one build; paths flow through in chunks, so memory holds the distinct
    paths of each question and not every path read."""

    def __init__(self, summary: BuildSummary, rejects, box, pool, *, timeout, memory_mb,
                 workers, chunk, execute=True):
        self.summary, self.rejects, self.box, self.pool = summary, rejects, box, pool
        self.execute = execute
        self.timeout, self.memory_mb, self.workers, self.chunk = timeout, memory_mb, workers, chunk
        self.pending: list[_Path] = []
        self.runs: dict[str, tuple[str, str]] = {}  # program -> (status, what it showed)

    def reject(self, p: _Path, reason: str, detail: str = "") -> None:
        self.summary.rejected[reason] += 1
        if self.rejects is not None:
            self.rejects.write({"source": p.source, "question_id": p.question.id,
                                "file": p.file, "line": p.line, "path": p.index,
                                "reason": reason, "detail": detail})

    def add(self, p: _Path) -> None:
        from .normalise import steps

        found, complete = steps(p.text)
        if not complete:
            return self.reject(p, "cut off", "a ```python block is never closed")
        answer, reason = graded(p.text, p.question.gold, p.question.value)
        if reason:
            return self.reject(p, reason, "" if reason == "no answer" else
                               f"gold {p.question.gold}")
        p.answer = answer
        if any(s.output is None for s in found):
            return self.reject(p, "no output", "a program has no ```output block after it")
        p.steps = found
        self.pending.append(p)
        if len(self.pending) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        clock = time.perf_counter()
        verified = self._verified(batch) if self.execute else batch
        for p in verified:
            p.question.correct += 1
            p.steps = None
        now = time.perf_counter()
        self.summary.seconds["execute"] += now - clock
        jobs = [(p.text, p.answer) for p in verified]
        if self.pool is not None and len(jobs) >= 512:
            forms = list(self.pool.map(_form, jobs, chunksize=256))
        else:
            forms = [_form(job) for job in jobs]
        clock, now = now, time.perf_counter()
        self.summary.seconds["normalise"] += now - clock
        for p, form in zip(verified, forms):
            new, loser = p.question.paths.add(form, p.text, p)
            if not new:
                self.reject(loser, "duplicate", "same normal form as a kept path")
        self.summary.seconds["dedup"] += time.perf_counter() - now

    def _verified(self, batch: list[_Path]) -> list[_Path]:
        """The paths whose programs, run in the sandbox, print the outputs they show."""
        from mathgen.robustness.prompts import tool_output

        if len(self.runs) > RUNS_KEPT:  # bounded; a program seen again later runs again
            self.runs.clear()
        codes = list(dict.fromkeys(s.code for p in batch for s in p.steps
                                   if s.code not in self.runs))
        if codes:
            results = self.box.run_many(codes, timeout=self.timeout, memory_mb=self.memory_mb,
                                        workers=self.workers)
            self.summary.programs += len(codes)
            self.runs.update((code, (run.status, tool_output(run)))
                             for code, run in zip(codes, results))
        verified = []
        for p in batch:
            bad = next((s for s in p.steps if not _same_output(s.output, self.runs[s.code])),
                       None)
            if bad is None:
                verified.append(p)
                continue
            status, shown = self.runs[bad.code]
            self.reject(p, "not reproduced", f"shows {bad.output[:80]!r}, the run gives "
                                             f"{shown[:80]!r} ({status})")
        return verified


def build(samples, output, *, k: int = 3, mix: dict | None = None, seed: int = 0,
          stats=None, rejects=None, workers: int | None = None, timeout: float = 5.0,
          memory_mb: int = 512, chunk: int = 20_000, execute: bool = True,
          progress=None) -> BuildSummary:
    """Build the MMOS set from sampled paths and write it; see the module doc.

    Args:
        samples: files, or (name, file) pairs naming their source.
        mix: source name -> ratio (a Fraction); sources not named keep ratio 1.
        workers: processes that run programs and normalise paths (default: the CPUs).
        execute: re-run the programs; without it the outputs the paths show are trusted (as
            for paths from ``mathgen sample``, whose outputs the sandbox printed).
    """
    import os
    from concurrent.futures import ProcessPoolExecutor
    from contextlib import ExitStack
    from multiprocessing import get_context

    from mathgen.sandbox import Sandbox

    if k < 1:
        raise MathgenError("--k must be at least 1")
    specs = [source(s) for s in samples]
    if not specs:
        raise MathgenError("no samples given (hint: mathgen mmos build [NAME=]FILE ...)")
    names = list(dict.fromkeys(n for n, _ in specs))
    mix = dict(mix or {})
    unknown = sorted(set(mix) - set(names))
    if unknown:
        raise MathgenError(f"--mix {unknown[0]}: no such source (the sources: "
                           f"{', '.join(names)}; name one with NAME=FILE)")
    workers = workers or os.cpu_count() or 1
    summary = BuildSummary(Path(output))
    started = time.perf_counter()
    questions: dict[str, dict[tuple, _Question]] = {n: {} for n in names}
    ids: dict[str, set] = {n: set() for n in names}
    with ExitStack() as stack:
        box = stack.enter_context(Sandbox()) if execute else None
        out_rejects = stack.enter_context(AtomicJsonl(rejects)) if rejects else None
        pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=get_context(
            "spawn"))) if workers > 1 else None
        stage = _Builder(summary, out_rejects, box, pool, timeout=timeout, memory_mb=memory_mb,
                         workers=workers, chunk=chunk, execute=execute)
        for name, path in specs:
            for line, question, gold, outputs, ident in read_samples(path):
                summary.rows += 1
                value = gold_value(gold)
                key = (" ".join(question.split()),
                       text_form(gold) if value is None else plain(value))
                q = questions[name].get(key)
                if q is None:
                    if ident is None or ident in ids[name]:
                        ident = base = f"{source(path)[0]}:{line}"
                        n = 1
                        while ident in ids[name]:  # files of one stem in one source
                            n += 1
                            ident = f"{base}~{n}"
                    ids[name].add(ident)
                    q = questions[name][key] = _Question(ident, question.strip(), gold, value,
                                                         str(path), line)
                for i, text in enumerate(outputs):
                    summary.paths += 1
                    stage.add(_Path(name, q, str(path), line, i, text))
                if progress:
                    progress(1)
        stage.flush()
        _choose_and_write(summary, questions, stage, k=k, mix=mix, seed=seed)
    summary.seconds["total"] = time.perf_counter() - started
    if stats:
        _write_stats(Path(stats), summary, k=k, mix=mix, seed=seed, names=names)
    return summary


def _choose_and_write(summary: BuildSummary, questions, stage: _Builder, *, k, mix, seed):
    from mathgen.robustness.prompts import Style

    tora = Style("tora")
    distinct = []
    with open_records(summary.output) as out:
        for name, by_key in questions.items():
            ratio = mix.get(name, Fraction(1))
            picks = []  # (question, its chosen forms), in question order
            for q in by_key.values():
                distinct.append(len(q.paths))
                clock = time.perf_counter()
                picked = most_diverse(q.paths.paths.keys(), k)
                summary.seconds["select"] += time.perf_counter() - clock
                for form in [f for f in q.paths.paths if f not in picked]:
                    stage.reject(q.paths.paths[form][1], "beyond k", f"k={k}")
                if picked:
                    picks.append((q, picked))
            copies = mix_copies(len(picks), ratio, seed, name)
            written = kept = 0
            for (q, picked), times in zip(picks, copies):
                if times == 0:
                    for form in picked:
                        stage.reject(q.paths.paths[form][1], "left out", f"ratio {ratio}")
                    continue
                kept += len(picked)
                for form in picked:
                    record = {"prompt": tora.prompt(q.text), "completion": q.paths.paths[form][0],
                              "source": name, "question_id": q.id}
                    for _ in range(times):
                        out.write(record)
                        written += 1
            summary.sources[name] = {
                "questions": len(by_key), "with_correct": sum(q.correct > 0
                                                              for q in by_key.values()),
                "distinct": sum(len(q.paths) for q in by_key.values()),
                "kept": kept,
                "written": written, "ratio": str(ratio)}
            summary.written += written
    summary.table = k_table(distinct)


def _write_stats(path: Path, summary: BuildSummary, *, k, mix, seed, names) -> None:
    data = {"k": k, "seed": seed, "mix": {n: str(mix.get(n, Fraction(1))) for n in names},
            **summary.stats()}
    try:
        write_text(path, json.dumps(data, indent=1) + "\n")
    except OSError as err:
        raise MathgenError(f"--stats {path}: cannot write it ({err.strerror})") from None
