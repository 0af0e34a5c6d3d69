"""``mathgen robustness-report``: ask a model every item of several sets, grade, and report.

    summary = robustness_report([("gsm8k", "test.jsonl"), ("large", "large.jsonl")], "out/",
                                backend="hf", model="path/to/model", prompt="tora")

The folder gets ``report.html`` (one page, plots embedded), ``report.md``, ``metrics.json``,
``items.jsonl`` (every item: question, output, extracted answer, gold, verdict, set, source)
and ``plots/*.png``; ``generations.sqlite`` caches the model's outputs, so a run that stops
goes on where it stopped and a second report costs no model call.

A GSM-HARD set is audited (``robustness.audit``) against a GSM8K set of the same report, when
there is one: its items then pair with the GSM8K problems they were made from (the audit finds
them by question; GSM-HARD dropped and reordered a few rows) and the report shows accuracy per
audit class. Without a GSM8K set the classes come from the labels alone (negative,
non-integer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from mathgen.errors import MathgenError
from mathgen.io import stem, write_jsonl, write_text
from mathgen.robustness.metrics import Graded, compute_metrics, grade_items
from mathgen.robustness.sets import Item, normalise, read_set
from mathgen.wording import counted

FAILED_NAMED = 10  # failed items named on the terminal; all of them are in the report
AUDIT_CLASSES = ("negative", "non_integer", "unchanged", "text_program_mismatch",
                 "label_mismatch")


@dataclass
class ReportSummary:
    out: Path
    sets: dict = field(default_factory=dict)  # name -> items
    cached: int = 0
    resumed: int = 0
    generated: int = 0
    failed: int = 0
    programs: int = 0
    unmatched_predictions: int = 0
    unmatched_example: tuple = ()  # (an id that matched nothing, an id that would match)
    failures: dict = field(default_factory=dict)  # why generations failed, with counts
    skipped: dict = field(default_factory=dict)  # set -> rows skipped (gold not a number)
    metrics: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"read {counted(sum(self.sets.values()), 'item')} in "
               f"{counted(len(self.sets), 'set')}: "
               + ", ".join(f"{n} {c}" for n, c in self.sets.items())]
        for name, rows in self.skipped.items():
            out.append(f"skipped {counted(len(rows), 'row')} of {name} whose gold answer is "
                       "not a number "
                       f"(lines {', '.join(str(r.line) for r in rows[:5])}"
                       + (", ..." if len(rows) > 5 else "") + ")")
        if self.generated or self.cached or self.failed:
            resumed = f" ({self.resumed} taken up at a stored round)" if self.resumed else ""
            out.append(f"generated {self.generated}{resumed}, from the cache {self.cached}, "
                       f"failed {self.failed}; {counted(self.programs, 'program')} run in the "
                       "sandbox")
        if self.failed:
            out.append("failed generations (asked again on the next run): " + ", ".join(
                f"{k} {v}" for k, v in sorted(self.failures.items())))
        if self.unmatched_predictions:
            wrong, right = self.unmatched_example or (None, None)
            out.append(f"{counted(self.unmatched_predictions, 'prediction row')} matched no "
                       "item" + (f" (such as {wrong!r}; item ids look like {right!r})"
                                 if wrong is not None and right is not None else ""))
        missing = {n: s["missing"] for n, s in self.metrics.get("sets", {}).items()
                   if s.get("missing")}
        if missing:
            out.append("items with no prediction (wrong in accuracy, left out of pairs): " +
                       ", ".join(f"{n} {c}" for n, c in missing.items()))
        failed = self.metrics.get("failed") or []
        if failed:
            named = ", ".join(f"{f['set']}/{f['id']}" for f in failed[:FAILED_NAMED])
            more = len(failed) - FAILED_NAMED
            out.append(f"items that failed, left out of every accuracy: {named}"
                       + (f" and {more} more" if more > 0 else "")
                       + " (reasons in items.jsonl and the report)")
        for name, s in self.metrics.get("sets", {}).items():
            if s["accuracy"] is None:
                line = f"{name}: no item answered ({s['failed']} failed)"
            else:
                line = (f"{name}: {100 * s['accuracy']:.1f}% of {s['n']} "
                        f"[{100 * s['ci95'][0]:.1f}, {100 * s['ci95'][1]:.1f}]")
                v = s.get("samples")
                if v:
                    line += (f" (maj@{v['k']}); pass@1 {_pct(v['pass_at_1'])}%, "
                             f"pass@{v['k']} {_pct(v['pass_at_k'])}%")
                if s["failed"]:
                    line += (f", {s['failed']} failed ({100 * s['failed_share']:.1f}%) "
                             "left out")
            p = self.metrics["paired"].get(name)
            if p and p["drop"] is None:
                line += f"; no source shared with {p['baseline']}"
            elif p:
                line += (f"; drop vs {p['baseline']} {100 * p['drop']:.1f} points "
                         f"[{100 * p['drop_ci95'][0]:.1f}, {100 * p['drop_ci95'][1]:.1f}] "
                         f"over {counted(p['n_sources'], 'source')}, "
                         f"McNemar p={p['mcnemar_p']:.2g}")
            out.append(line)
        out.append(f"report: {self.out / 'report.html'}")
        return out


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def _audit(items: dict[str, list[Item]], paths: dict[str, Path]) -> dict[tuple, tuple]:
    """GSM-HARD classes per (set, id); GSM-HARD items re-paired with a GSM8K set's problems."""
    from mathgen.robustness.audit import audit_gsm_hard, is_float_noise_integer

    gsm8k = next((n for n, its in items.items() if its[0].format == "gsm8k"), None)
    classes: dict[tuple, tuple] = {}
    for name, its in items.items():
        if its[0].format != "gsm-hard":
            continue
        if gsm8k is None:
            for it in its:
                classes[(name, it.id)] = (("negative",) if it.label < 0 else ()) + \
                    (() if is_float_noise_integer(it.label) else ("non_integer",))
            continue
        audit = {a.line: a for a in audit_gsm_hard(paths[name], paths[gsm8k]).items}
        originals = {line: normalise(q) for line, q in _questions(paths[gsm8k])}
        moved = []
        for it in its:
            row = audit[it.source_line].to_json()
            classes[(name, it.id)] = tuple(c for c in AUDIT_CLASSES if row[c])
            found = row["source_line"]
            moved.append(replace(it, source_id=f"{stem(paths[gsm8k])}:{found}",
                                 source=originals[found]) if found is not None else it)
        items[name] = moved
    return classes


def _questions(path: Path):
    from mathgen.io import read_rows

    for line, row in read_rows(path):
        yield line, str(row.get("question", ""))


def _check_options(backend: str, model, predictions) -> None:
    if backend == "predictions":
        if not predictions:
            raise MathgenError("the predictions backend needs --predictions FILE "
                               "(or NAME=FILE for one set)")
        if model:
            raise MathgenError("--model needs --backend vllm, hf or openai (the predictions "
                               "backend reads outputs from --predictions)")
    else:
        if predictions:
            raise MathgenError(f"--predictions needs --backend predictions (not {backend})")
        if not model:
            raise MathgenError(f"the {backend} backend needs --model")
    for module in ("numpy", "matplotlib"):
        try:
            __import__(module)
        except ImportError:
            raise MathgenError(f"the report needs {module}: pip install 'mathgen[report]'") \
                from None


def robustness_report(sets, out, *, baseline: str | None = None, backend: str = "predictions",
                      model: str | None = None, predictions=(), prompt: str = "tora",
                      chat: bool = False, few_shot=None, rounds: int = 4, sampling=None,
                      backend_options: dict | None = None, limit: int | None = None,
                      rel_tol: float = 0.0, timeout: float = 5.0, seed: int = 0,
                      progress=None, samples: int = 1) -> ReportSummary:
    """Run (or read) the model on every set and write the report folder; see the module doc."""
    from mathgen.robustness.prompts import make_style

    out = Path(out)
    names = [n for n, _ in sets]
    if not names:
        raise MathgenError("no set given (hint: --set NAME=FILE, once per set)")
    if len(set(names)) != len(names):
        raise MathgenError(f"set names must differ: {', '.join(names)}")
    baseline = baseline or names[0]
    if baseline not in names:
        raise MathgenError(f"--baseline {baseline!r} is not one of the sets ({', '.join(names)})")
    _check_options(backend, model, predictions)
    if samples > 1 and backend != "predictions" and (sampling is None or
                                                      sampling.temperature <= 0):
        raise MathgenError(f"--n {samples} asks {samples} samples of each item, which greedy "
                           "decoding makes identical (hint: add --temperature 0.7 or so)")
    style = make_style(prompt, chat=chat, rounds=rounds, few_shot=few_shot)
    paths = {n: Path(p) for n, p in sets}
    items, skipped = {}, {}
    for n in names:
        items[n], rows = read_set(n, paths[n], limit=limit)
        if rows:
            skipped[n] = rows
    classes = _audit(items, paths)
    every = [it for n in names for it in items[n]]
    summary = ReportSummary(out, {n: len(items[n]) for n in names}, skipped=skipped)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise MathgenError(f"--out {out}: cannot make the folder ({err.strerror})") from None
    if backend == "predictions":
        from mathgen.robustness.predictions import read_predictions

        found = read_predictions(predictions, items, samples)
        outcomes, summary.unmatched_predictions = found.outputs, found.unmatched
        summary.unmatched_example = (found.unmatched_example, found.expected_example)
    else:
        from mathgen.robustness.backends import Sampling, load_backend
        from mathgen.robustness.cache import GenerationCache
        from mathgen.robustness.inference import run_inference

        engine = load_backend(backend, model, sampling or Sampling(),
                              **(backend_options or {}))
        try:
            with GenerationCache(out / "generations.sqlite") as cache:
                outcomes, stats = run_inference(
                    every, engine, style, cache, timeout=timeout, samples=samples,
                    progress=progress and (lambda n: progress(n, samples * len(every))))
        finally:
            engine.close()
        summary.cached, summary.generated = stats.cached, stats.generated
        summary.resumed = stats.resumed
        summary.failed, summary.programs = stats.failed, stats.programs
        summary.failures = stats.failures
    if samples > 1:
        from mathgen.robustness.voting import grade_samples
        graded = grade_samples(every, outcomes, style.extract, rel_tol=rel_tol)
    else:
        graded = grade_items(every, outcomes, style.extract, rel_tol=rel_tol)
    graded = [replace(g, classes=classes.get((g.item.set, g.item.id), ())) for g in graded]
    summary.metrics = write_report(graded, out, baseline=baseline, seed=seed)
    return summary


def write_report(graded: list[Graded], out, *, baseline: str | None, seed: int = 0,
                 title: str = "mathgen robustness report") -> dict:
    """Write every file of the report folder from graded items; returns the metrics."""
    from mathgen.robustness import pages

    out = Path(out)
    metrics = compute_metrics(graded, baseline, seed=seed)
    try:
        write_jsonl(out / "items.jsonl", (g.to_json() for g in graded))
        plots = pages.write_plots(metrics, out / "plots")
        write_text(out / "metrics.json", json.dumps(metrics, indent=1, ensure_ascii=False)
                    + "\n")
        write_text(out / "report.md", pages.markdown(metrics, plots, title))
        write_text(out / "report.html", pages.html(metrics, plots, title))
    except OSError as err:
        raise MathgenError(f"{out}: cannot write the report ({err.strerror or err})") from None
    return metrics
