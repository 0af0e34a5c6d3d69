"""Graded items and the numbers of a robustness report (what ``metrics.json`` holds).

    graded = grade_items(items, outputs, style)
    metrics = compute_metrics(graded, baseline="gsm8k", seed=0)
    metrics["sets"]["large"]       # {"n": 1319, "correct": 1003, "accuracy": 0.76, "ci95": [...]}
    metrics["paired"]["large"]     # {"baseline": "gsm8k", "n_pairs": ..., "drop": 0.04, ...}

Sections: ``sets`` (accuracy with Wilson intervals), ``paired`` (each set against the baseline
over their shared sources: the drop with a bootstrap interval that resamples sources, the exact
McNemar p-value, fixed and broken counts), ``by_size`` (accuracy by the digits of the largest
number in the question), ``spread`` (sets holding several items per source: how much the
verdict varies across a source's instances, and the share of sources solved in all of them),
``consistency`` (sources asked in the baseline and another set: the share solved everywhere),
and ``gsm_hard`` (accuracy per audit class, when a set is GSM-HARD), and ``failed`` (every
item whose generation failed, with the reason). An item whose generation failed (a timeout, a
server error, a malformed reply, after its retries) is left out of every accuracy and every
pair: a network error is not a wrong answer. Each accuracy says beside it how many items
failed (``failed``, ``failed_share``). A missing prediction (``--backend predictions``) counts
as wrong, as the model's own run scored it, but pairs with nothing. With ``--n K`` an item's
verdict is its majority answer's (maj@K, ``robustness.voting``), so every figure above reads
maj@K; ``sets[...]["samples"]`` and ``paired[...]["samples"]`` add pass@1 and pass@K.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

from mathgen.answers import grade
from mathgen.robustness import stats
from mathgen.robustness.sets import Item

SIZE_BINS = ("1", "2", "3", "4", "5", "6", "7+")
FLOAT_NOISE = 4e-15  # about 16 units in the last place of a double, relative


@dataclass(frozen=True)
class Graded:
    item: Item
    output: str | None
    extracted: str | None
    method: str
    correct: bool
    reason: str
    classes: tuple[str, ...] = ()  # GSM-HARD audit classes of the item
    error: str | None = None  # why the generation failed; such an item is graded nowhere
    samples: tuple = ()  # --n K: (extracted, correct) of each answered sample (voting.py)
    asked: int = 1  # samples asked for this item

    @property
    def failed(self) -> bool:
        return self.error is not None

    def to_json(self) -> dict:
        it = self.item
        row = {"set": it.set, "id": it.id, "source_id": it.source_id, "question": it.question,
               "output": self.output, "extracted": self.extracted, "method": self.method,
               "gold": it.gold, "correct": None if self.failed else self.correct,
               "reason": self.reason, "size": size_bin(it.size)}
        if self.failed:
            row["failed"] = self.error
        if self.samples or self.asked > 1:
            row["samples"] = [{"extracted": e, "correct": c} for e, c in self.samples]
            row["samples_failed"] = self.asked - len(self.samples)
        if it.format == "gsm-hard":
            row["classes"] = list(self.classes)
        return row


def size_bin(digits: int) -> str:
    return "7+" if digits >= 7 else str(max(digits, 1))


def tolerance(item: Item, rel_tol: float = 0.0) -> float:
    """The relative tolerance an item is graded with: a float label (GSM-HARD) up to float
    noise, never more."""
    return max(rel_tol, FLOAT_NOISE) if item.label is not None else rel_tol


def grade_items(items, outcomes: dict, extract, rel_tol: float = 0.0) -> list[Graded]:
    """Grade every item; ``outcomes`` maps (set, id) to an object with ``output``/``error``
    (or to a plain output text), ``extract`` is the prompt style's answer extraction."""
    out = []
    for it in items:
        outcome = outcomes.get((it.set, it.id))
        text = getattr(outcome, "output", outcome)
        if text is None:
            error = getattr(outcome, "error", None)
            out.append(Graded(it, None, None, "none", False,
                              f"generation failed: {error}" if error else "no prediction",
                              error=error))
            continue
        found = extract(text)
        verdict = grade(found.text, it.gold, rel_tol=tolerance(it, rel_tol))
        out.append(Graded(it, text, found.text, found.method, verdict.correct, verdict.reason))
    return out


def _acc(rows: list[Graded]) -> dict:
    """Accuracy over the items that were answered; failed ones are counted beside it (with no
    item answered the accuracy is None, never 0%)."""
    graded = [g.correct for g in rows if not g.failed]
    a = stats.accuracy(graded)
    failed = len(rows) - len(graded)
    return {"n": a.n, "correct": a.correct, "accuracy": a.value if a.n else None,
            "ci95": list(a.ci95), "failed": failed,
            "failed_share": failed / len(rows) if rows else 0.0}


def _by_source(rows, answered_only: bool = False) -> dict[str, list[bool]]:
    out: dict[str, list[bool]] = defaultdict(list)
    for g in rows:
        if g.failed or (answered_only and g.output is None):
            continue
        out[g.item.source].append(g.correct)
    return out


def compute_metrics(graded: list[Graded], baseline: str | None, seed: int = 0,
                    flips: int = 6) -> dict:
    """Every number of the report, as plain JSON-ready data."""
    by_set: dict[str, list[Graded]] = defaultdict(list)
    for g in graded:
        by_set[g.item.set].append(g)
    metrics: dict = {"baseline": baseline, "sets": {}, "paired": {}, "by_size": {},
                     "spread": {}, "consistency": None, "gsm_hard": {}, "flips": {},
                     "failed": [{"set": g.item.set, "id": g.item.id, "reason": g.error}
                                for g in graded if g.failed]}
    for name, rows in by_set.items():
        entry = _acc(rows)
        entry["no_answer"] = sum(g.output is not None and g.extracted is None for g in rows)
        entry["missing"] = sum(g.output is None and not g.failed for g in rows)
        entry["format"] = rows[0].item.format
        k = max(g.asked for g in graded)
        if k > 1:  # --n K: the accuracy above is maj@K; pass@1 and pass@K beside it
            from mathgen.robustness.voting import sample_metrics
            entry["samples"] = sample_metrics(rows, k)
        metrics["sets"][name] = entry
        bins: dict[str, list[Graded]] = defaultdict(list)
        for g in rows:
            bins[size_bin(g.item.size)].append(g)
        metrics["by_size"][name] = {b: _acc(bins[b]) for b in SIZE_BINS if b in bins}
        groups = _by_source(rows)
        several = {s: v for s, v in groups.items() if len(v) > 1}
        if several:
            metrics["spread"][name] = _spread(several)
        if rows[0].item.format == "gsm-hard":
            metrics["gsm_hard"][name] = _gsm_hard(rows)
    if baseline is not None:
        base = _by_source(by_set[baseline], answered_only=True)
        for name, rows in by_set.items():
            if name == baseline:
                continue
            p = stats.paired(base, _by_source(rows, answered_only=True), seed=seed)
            metrics["paired"][name] = {
                "baseline": baseline, "n_pairs": p.n_pairs, "n_sources": p.n_sources,
                "baseline_accuracy": p.baseline, "accuracy": p.accuracy, "drop": p.drop,
                "drop_ci95": list(p.drop_ci95) if p.drop_ci95 else None,
                "mcnemar_p": p.mcnemar_p, "broken": p.broken, "fixed": p.fixed,
                "broken_items": p.broken_items, "fixed_items": p.fixed_items}
            metrics["flips"][name] = _flips(by_set[baseline], rows, seed, flips)
            if max(g.asked for g in graded) > 1:  # pass@k of both over the shared sources
                from mathgen.robustness.voting import sample_metrics
                k = max(g.asked for g in graded)
                shared = set(base) & set(_by_source(rows, answered_only=True))
                metrics["paired"][name]["samples"] = {
                    "baseline": sample_metrics([g for g in by_set[baseline]
                                                if g.item.source in shared], k),
                    "set": sample_metrics([g for g in rows if g.item.source in shared], k)}
        metrics["consistency"] = _consistency(by_set, baseline)
    return metrics


def _consistency(by_set: dict, baseline: str) -> dict | None:
    """Sources asked in the baseline and in at least one other set: solved in all of them?"""
    groups: dict[str, list[bool]] = defaultdict(list)
    sets_of: dict[str, set] = defaultdict(set)
    for name, rows in by_set.items():
        for g in rows:
            if g.output is not None:
                groups[g.item.source].append(g.correct)
                sets_of[g.item.source].add(name)
    shared = [s for s, names in sets_of.items() if baseline in names and len(names) > 1]
    if not shared:
        return None
    return {"sources": len(shared),
            "solved_everywhere": sum(all(groups[s]) for s in shared) / len(shared),
            "solved_nowhere": sum(not any(groups[s]) for s in shared) / len(shared)}


def _spread(groups: dict[str, list[bool]]) -> dict:
    shares = sorted(Fraction(sum(v), len(v)) for v in groups.values())
    sds = [float(s * (1 - s)) ** 0.5 for s in shares]
    n = len(shares)
    histogram = [0] * 5  # [0, 20%), [20, 40%), ... [80, 100%]
    for share in shares:
        histogram[min(int(share * 5), 4)] += 1
    return {"sources": n, "items": sum(len(v) for v in groups.values()),
            "all_correct": sum(s == 1 for s in shares) / n,
            "all_wrong": sum(s == 0 for s in shares) / n,
            "mixed": sum(0 < s < 1 for s in shares) / n,
            "consistency": stats.consistency(groups),
            "mean_within_sd": sum(sds) / n,
            "histogram": histogram}


def _gsm_hard(rows: list[Graded]) -> dict:
    groups: dict[str, list[Graded]] = defaultdict(list)
    for g in rows:
        broken = "negative" in g.classes or "non_integer" in g.classes
        groups["broken (negative or non-integer)" if broken else "sensible"].append(g)
        for cls in g.classes:
            groups[cls].append(g)
    order = ["sensible", "broken (negative or non-integer)", "negative", "non_integer",
             "unchanged", "text_program_mismatch", "label_mismatch"]
    return {c: _acc(groups[c]) for c in order if c in groups}


def flip_pairs(base_rows, rows) -> list[tuple[Graded, Graded]]:
    """(original, variant) pairs of items made from the same source problem.

    A baseline with one item per source (GSM8K) pairs it with each of that source's
    variants. A baseline with several (template instances) pairs the i-th instance of a
    source in one set with the i-th in the other, in file order: the same draw of the same
    template (the same names, other numbers) when both were drawn with one seed, never the
    last instance of the source with every variant. Items with no output pair with nothing.
    """
    base: dict[str, list[Graded]] = defaultdict(list)
    for g in base_rows:
        base[g.item.source].append(g)
    seen: dict[str, int] = defaultdict(int)
    pairs = []
    for g in rows:
        originals = base.get(g.item.source, [])
        i = seen[g.item.source]
        seen[g.item.source] += 1
        o = originals[0] if len(originals) == 1 else originals[i] if i < len(originals) else None
        if o is not None and o.output is not None and g.output is not None:
            pairs.append((o, g))
    return pairs


def _flips(base_rows, rows, seed: int, k: int) -> list[dict]:
    """A few variants whose verdict differs from their own original, broken first."""
    broken, fixed = [], []
    for o, g in flip_pairs(base_rows, rows):
        if o.correct != g.correct:
            (broken if o.correct else fixed).append((o, g))
    rng = random.Random(seed)
    picks = rng.sample(broken, min(len(broken), k - min(len(fixed), k // 3)))
    picks += rng.sample(fixed, min(len(fixed), k - len(picks)))
    return [{"kind": "broken" if o.correct else "fixed", "source_id": g.item.source_id,
             "original": {"id": o.item.id, "question": o.item.question, "gold": o.item.gold,
                          "extracted": o.extracted, "output": o.output},
             "variant": {"id": g.item.id, "question": g.item.question, "gold": g.item.gold,
                         "extracted": g.extracted, "output": g.output}}
            for o, g in picks]
