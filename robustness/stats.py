"""Statistics of a robustness report: accuracy with intervals, and paired comparisons.

    accuracy([True, False, True])       # Accuracy(n=3, correct=2, value=0.667, ci95=(0.21, 0.94))
    paired(baseline, variants, seed=0)  # Paired(n_pairs=..., drop=..., mcnemar_p=...)

``baseline`` and ``variants`` map a source id to the verdicts of its items (the original
problem; its perturbed instances). The drop is baseline accuracy minus variant accuracy over
the shared sources, each source weighted once; its interval is a bootstrap that resamples
sources (items of one source are not independent). The McNemar test is exact, a two-sided
binomial test on the discordant sources, for the same reason counted once per source: a
source is 'broken' when its original is right and most of its variants are wrong, 'fixed' the
other way round (a source whose variants split evenly counts as neither). ``broken_items`` and
``fixed_items`` count the variants themselves. With no shared source every figure is None.
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
    baseline: float | None
    accuracy: float | None
    drop: float | None  # baseline - accuracy, in accuracy units (0.05 is five points)
    drop_ci95: tuple[float, float] | None
    mcnemar_p: float | None
    fixed: int  # sources: original wrong, variants mostly right
    broken: int  # sources: original right, variants mostly wrong
    fixed_items: int = 0
    broken_items: int = 0


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
    k = min(fixed, broken)
    if n == 0 or 2 * k == n:
        return 1.0
    # the binomial tail in log space: exact sums of huge integers get slow past a few thousand
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2)
            for i in range(k + 1)]
    top = max(logs)
    tail = math.exp(top) * sum(math.exp(x - top) for x in logs)
    return min(1.0, 2 * tail)


def paired(baseline: Mapping[str, Sequence[bool]], variants: Mapping[str, Sequence[bool]],
           seed: int = 0, resamples: int = 2000) -> Paired:
    """Paired comparison of a variant set with the baseline over their shared sources."""
    import numpy as np

    shared = sorted(s for s in set(baseline) & set(variants) if baseline[s] and variants[s])
    if not shared:
        return Paired(0, 0, None, None, None, None, None, 0, 0)
    base = np.array([np.mean(baseline[s]) for s in shared], dtype=float)
    var = np.array([np.mean(variants[s]) for s in shared], dtype=float)
    fixed = broken = fixed_items = broken_items = pairs = 0
    for s, b, v in zip(shared, base, var):
        original = bool(b >= 0.5)
        right = sum(bool(x) for x in variants[s])
        pairs += len(variants[s])
        if original:
            broken_items += len(variants[s]) - right
            broken += v < 0.5
        else:
            fixed_items += right
            fixed += v > 0.5
    diff = base - var
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    block = max(1, 4_000_000 // len(shared))  # bounded memory for large sets
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        picks = rng.integers(0, len(shared), size=(size, len(shared)))
        means[start:start + size] = diff[picks].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return Paired(pairs, len(shared), float(base.mean()), float(var.mean()),
                  float(diff.mean()), (float(low), float(high)),
                  mcnemar_exact(int(fixed), int(broken)), int(fixed), int(broken),
                  fixed_items, broken_items)


def consistency(variants: Mapping[str, Sequence[bool]]) -> float:
    """Share of sources solved in every one of their variants."""
    sources = [v for v in variants.values() if v]
    return sum(all(v) for v in sources) / len(sources) if sources else 0.0
