"""Several samples per item: majority voting (maj@K) and the unbiased pass@k.

    graded = grade_samples(items, outcomes, extract)   # outcomes: (set, id) -> [Outcome]*K
    pass_at_k(n=5, c=2, k=2)                            # Fraction(7, 10)

maj@K (self-consistency, Wang et al. 2022): the answers extracted from an item's samples vote
by exact value (``mathgen.answers.number``: "18", "18.00" and "$18" are one vote), so the
majority answer is graded like a single output and feeds every accuracy and the paired
comparison. A sample with no extractable answer does not vote; an item none of whose samples
votes has no answer (wrong). Ties go to the tied answer whose first vote came earliest in
sample order (sample 0 first), which is deterministic and independent of the answer's value.

pass@k is the unbiased estimator of Chen et al. (2021): with n samples of which c are
correct, 1 - C(n-c, k) / C(n, k), computed exactly. A sample whose generation failed (a
timeout, a server error) is left out: it neither votes nor counts in n. An item all of whose
samples failed is a failed item, left out as a single one is. pass@K needs K answered
samples, so an item with a failed sample is left out of pass@K (counted beside it) but still
counts in pass@1 (c/n over its answered samples) and maj@K.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from math import comb

from mathgen.answers import number
from mathgen.robustness.metrics import Graded, grade_items


def pass_at_k(n: int, c: int, k: int) -> Fraction:
    """The chance that at least one of k samples drawn without replacement from n (c of them
    correct) is correct."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def majority(answers) -> int | None:
    """The index (in ``answers``) of the majority answer's first vote; None when no answer
    reads as a number. Ties: the answer voted first wins."""
    votes: dict[Fraction, list[int]] = {}
    for i, text in enumerate(answers):
        value = number(text)[0] if text is not None else None
        if value is not None:
            votes.setdefault(value, []).append(i)
    if not votes:
        return None
    # dicts keep insertion order, so max's first maximum is the answer voted first
    return max(votes.values(), key=len)[0]


def grade_samples(items, outcomes: dict, extract, rel_tol: float = 0.0) -> list[Graded]:
    """One Graded per item: its majority answer's verdict, with every answered sample's
    (extracted, correct) in ``samples``."""
    out = []
    for it in items:
        runs = outcomes.get((it.set, it.id)) or []
        if not runs:  # no prediction at all: wrong, as a single missing one is
            out.append(grade_items([it], {}, extract, rel_tol)[0])
            continue
        graded = [grade_items([it], {(it.set, it.id): o}, extract, rel_tol)[0] for o in runs]
        answered = [g for g in graded if not g.failed]
        if not answered:  # every sample failed: the item failed, for the first reason
            out.append(replace(graded[0], samples=(), asked=len(runs)))
            continue
        pick = majority([g.extracted for g in answered])
        chosen = answered[pick] if pick is not None else replace(
            answered[0], correct=False, reason="no sample gave an answer")
        out.append(replace(chosen, samples=tuple((g.extracted, g.correct) for g in answered),
                           asked=len(runs)))
    return out


def sample_metrics(rows: list[Graded], k: int) -> dict:
    """maj@K, pass@1 and pass@K over the items of one set (as fractions of items). maj@K is
    the set's accuracy (an item with no prediction is wrong); pass@k reads answered samples."""
    graded = [g for g in rows if not g.failed]
    answered = [g for g in rows if not g.failed and g.samples]
    full = [g for g in answered if len(g.samples) >= k]
    p1 = [pass_at_k(len(g.samples), sum(c for _, c in g.samples), 1) for g in answered]
    pk = [pass_at_k(len(g.samples), sum(c for _, c in g.samples), k) for g in full]
    return {"k": k, "maj_at_k": sum(g.correct for g in graded) / len(graded)
            if graded else None,
            "pass_at_1": float(sum(p1) / len(p1)) if p1 else None,
            "pass_at_k": float(sum(pk) / len(pk)) if pk else None,
            "items": len(answered), "items_pass_at_k": len(full),
            "short_of_k": len(answered) - len(full),
            "failed_samples": sum(g.asked - len(g.samples) for g in answered)}
