"""Sampling reasoning paths for the MMOS recipe: n paths per question, tools run in the sandbox.

    summary = sample_paths("gsm8k/train.jsonl", "samples.jsonl", backend="vllm",
                           model="path/to/model", n=100, sampling=Sampling(0.9, 0.95, 1024))

The questions are read as ``mathgen robustness-report`` reads a set (GSM8K, SVAMP, ASDiv,
GSM-HARD, ToRA rows or ``mathgen perturb`` output), and each is asked ``n`` times through the
same inference loop: a tora transcript's programs run in ``mathgen.sandbox`` and their output
is spliced in. Sample ``j`` of an item is its own generation (id ``ITEM#j``, seeded by that
id), cached the moment it ends in ``OUTPUT.sqlite`` beside the output, so a run that is
stopped goes on where it stopped and a finished one costs nothing to repeat.

One line per question, in the input's order, in the ToRA output format that ``mathgen mmos
build`` reads::

    {"idx": 0, "id": "train:1", "question": "...", "gt": "18",
     "code": ["```python\\n...```\\n```output\\n18\\n```\\n... \\\\boxed{18}.", ...],
     "pred": ["18", ...]}

Samples the backend failed to make (a request that failed after its retries) are left out of
``code`` and counted; running again asks for exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from mathgen.errors import MathgenError
from mathgen.io import write_jsonl
from mathgen.wording import counted


@dataclass
class SampleSummary:
    output: Path
    questions: int = 0
    samples: int = 0
    cached: int = 0
    generated: int = 0
    failed: int = 0
    programs: int = 0
    skipped: int = 0
    failures: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"read {counted(self.questions, 'question')}" +
               (f" ({counted(self.skipped, 'row')} skipped: their gold answer is not a number)"
                if self.skipped else "") + f"; {counted(self.samples, 'sample')} asked",
               f"generated {self.generated}, from the cache {self.cached}, failed "
               f"{self.failed}; {counted(self.programs, 'program')} run in the sandbox"]
        if self.failures:
            kinds = ", ".join(f"{k}: {v}" for k, v in sorted(self.failures.items()))
            out.append(f"failures ({kinds}); run the same command again to ask for them")
        out.append(f"wrote {counted(self.questions, 'question')} to {self.output}")
        return out


def cache_path(output) -> Path:
    output = Path(output)
    return output.with_name(output.name + ".sqlite")


def sample_paths(input, output, *, backend: str, model: str, n: int, sampling,
                 prompt: str = "tora", rounds: int = 4, backend_options: dict | None = None,
                 limit: int | None = None, timeout: float = 5.0, progress=None) -> SampleSummary:
    """Sample ``n`` paths per question of ``input`` and write them to ``output``."""
    from mathgen.robustness.backends import load_backend
    from mathgen.robustness.cache import GenerationCache
    from mathgen.robustness.inference import run_inference
    from mathgen.robustness.prompts import make_style
    from mathgen.robustness.sets import read_set

    if n < 1:
        raise MathgenError("--n must be at least 1")
    if n > 1 and sampling.temperature == 0:
        raise MathgenError(f"--n {n} with --temperature 0 gives {n} copies of one greedy path "
                           "(hint: sample with --temperature 0.9 --top-p 0.95, as MMOS did)")
    style = make_style(prompt, rounds=rounds)
    input, output = Path(input), Path(output)
    from mathgen.training.paths import source

    items, skipped = read_set(source(input)[0], input, limit=limit)
    asked = [replace(it, id=f"{it.id}#{j}") for it in items for j in range(n)]
    summary = SampleSummary(output, questions=len(items), samples=len(asked),
                            skipped=len(skipped))
    engine = load_backend(backend, model, sampling, **(backend_options or {}))
    try:
        with GenerationCache(cache_path(output)) as cache:
            outcomes, stats = run_inference(asked, engine, style, cache, timeout=timeout,
                                            progress=progress and (lambda k: progress(k,
                                                                                      len(asked))))
    finally:
        engine.close()
    summary.cached, summary.generated, summary.failed = stats.cached, stats.generated, stats.failed
    summary.programs, summary.failures = stats.programs, stats.failures

    def rows():
        for it in items:
            texts = [outcomes[(it.set, f"{it.id}#{j}")].output for j in range(n)]
            texts = [t for t in texts if t is not None]
            yield {"idx": it.row, "id": it.id, "question": it.question, "gt": it.gold,
                   "code": texts, "pred": [style.extract(t).text for t in texts]}

    write_jsonl(output, rows())
    return summary
