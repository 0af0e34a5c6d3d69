"""Frozen records that flow between stages.

A Problem (one input row) becomes Variants or one Rejection::

    Variant(id="test:1/similar/0/0", source_id="test:1", source_line=1, strategy="similar",
            seed=0, question="Janet's ducks lay 21 eggs ...", answer="... #### 26",
            final_answer="26", substitutions=(("16", "21"), ...), ...)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class Problem:
    """One input problem, normalised to a question and a GSM8K-style worked solution.

    ``solution`` holds lines with ``<<expr=result>>`` annotations and ends with ``#### N``;
    formats whose solutions are equations or programs are converted to this form on load.
    """

    source_id: str
    source_line: int
    question: str
    solution: str
    final_answer: Fraction
    format: str


@dataclass(frozen=True)
class Variant:
    """A perturbed problem with an exact worked solution."""

    id: str
    source_id: str
    source_line: int
    strategy: str
    seed: int
    question: str
    answer: str
    final_answer: str
    substitutions: tuple[tuple[str, str], ...]
    original_question: str
    original_final_answer: str
    distractor: tuple[str, int] | None = None  # the added sentence and where it starts

    def to_json(self) -> dict:
        out = {
            "id": self.id,
            "source_id": self.source_id,
            "source_line": self.source_line,
            "strategy": self.strategy,
            "seed": self.seed,
            "question": self.question,
            "answer": self.answer,
            "final_answer": self.final_answer,
            "substitutions": [{"old": o, "new": n} for o, n in self.substitutions],
            "original_question": self.original_question,
            "original_final_answer": self.original_final_answer,
        }
        if self.distractor is not None:
            out["distractor"] = {"sentence": self.distractor[0], "start": self.distractor[1]}
        return out


@dataclass(frozen=True)
class Rejection:
    """An input row that produced no output, with a short reason and a detail."""

    source_id: str
    source_line: int
    reason: str
    detail: str = field(default="")

    def to_json(self) -> dict:
        return {"source_id": self.source_id, "source_line": self.source_line,
                "reason": self.reason, "detail": self.detail}
