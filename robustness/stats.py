"""Statistics of a robustness report: accuracy with intervals, and paired comparisons.

    accuracy([True, False, True])            # Accuracy(n=3, correct=2, value=0.667, ci95=(0.21, 0.94))
    paired(baseline, variants, seed=0)       # Paired(n_pairs=..., drop=..., drop_ci95=..., mcnemar_p=...)

``baseline`` and ``variants`` map a source id to the verdicts of its items (the original
problem; its perturbed instances). The drop is baseline accuracy minus variant accuracy over
the shared sources, each source weighted once; its interval is a bootstrap that resamples
sources (items of one source are not independent). The McNemar test is exact: a two-sided
binomial test on the discordant pairs (each variant paired with its source's original).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Accuracy:
    n: int
    correct: int
    value: float
    ci95: tuple[float, float]


@dataclass(frozen=True)
class Paired:
    n_pairs: int  # variant items paired with their source's original
    n_sources: int
    baseline: float
    accuracy: float
    drop: float  # baseline - accuracy, in accuracy units (0.05 is five points)
    drop_ci95: tuple[float, float]
    mcnemar_p: float
    fixed: int  # original wrong, variant right
    broken: int  # original right, variant wrong


def wilson(correct: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion (good at 0% and 100% too)."""
    if n == 0:
        return (0.0, 1.0)
    p = correct / n
    centre = (p + Z95 ** 2 / (2 * n)) / (1 + Z95 ** 2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / (1 + Z95 ** 2 / n)
    # the bounds hold the estimate even where rounding would leave 1.0 a hair outside
    return (0.0 if correct == 0 else max(0.0, min(p, centre - half)),
            1.0 if correct == n else min(1.0, max(p, centre + half)))


def accuracy(verdicts: Sequence[bool]) -> Accuracy:
    n, correct = len(verdicts), sum(bool(v) for v in verdicts)
    return Accuracy(n, correct, correct / n if n else 0.0, wilson(correct, n))


def mcnemar_exact(fixed: int, broken: int) -> float:
    """Two-sided exact McNemar p-value: P(a split at least this uneven | no difference)."""
    n = fixed + broken
    if n == 0:
        return 1.0
    k = min(fixed, broken)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def paired(baseline: Mapping[str, Sequence[bool]], variants: Mapping[str, Sequence[bool]],
           seed: int = 0, resamples: int = 2000) -> Paired:
    """Paired comparison of a variant set with the baseline over their shared sources."""
    import numpy as np

    shared = sorted(set(baseline) & set(variants))
    shared = [s for s in shared if baseline[s] and variants[s]]
    if not shared:
        return Paired(0, 0, 0.0, 0.0, 0.0, (0.0, 0.0), 1.0, 0, 0)
    base = np.array([np.mean(baseline[s]) for s in shared], dtype=float)
    var = np.array([np.mean(variants[s]) for s in shared], dtype=float)
    fixed = broken = pairs = 0
    for s in shared:
        original = bool(np.mean(baseline[s]) >= 0.5)
        for v in variants[s]:
            pairs += 1
            fixed += (not original) and bool(v)
            broken += original and not bool(v)
    diff = base - var
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(shared), size=(resamples, len(shared)))
    means = diff[picks].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return Paired(pairs, len(shared), float(base.mean()), float(var.mean()),
                  float(diff.mean()), (float(low), float(high)),
                  mcnemar_exact(fixed, broken), fixed, broken)


def consistency(variants: Mapping[str, Sequence[bool]]) -> float:
    """Share of sources solved in every one of their variants."""
    sources = [v for v in variants.values() if v]
    return sum(all(v) for v in sources) / len(sources) if sources else 0.0
