"""The inference loop: ask a backend about every item, run its programs, keep every answer.

    outputs = run_inference(items, backend, style, cache)   # {(set, id): Outcome}

Items are asked in chunks. A tora transcript goes round by round: the backend writes until it
stops at a tool call, the programs of the whole chunk run in ``mathgen.sandbox`` at once, their
outputs are spliced in, and the unfinished transcripts go back to the backend. Every round is
stored as it completes (the model's text with the program it waits for, then with that
program's output), and the whole transcript the moment it is complete, so a killed run asks
the model again for nothing it had answered, and items already in the cache (from any earlier
run with the same model, style and settings) cost nothing. A generation the backend could not
make (a request that failed after its retries) is an ``Outcome`` with its reason and is not
stored, so the next run asks again, for that round only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from mathgen.robustness.cache import GenerationCache
from mathgen.robustness.prompts import Style, tool_output


@dataclass(frozen=True)
class Outcome:
    output: str | None  # the transcript; None when generation failed
    error: str | None = None


@dataclass
class InferenceStats:
    cached: int = 0
    resumed: int = 0  # transcripts taken up at a round a killed run had stored
    generated: int = 0
    failed: int = 0
    programs: int = 0
    failures: dict = field(default_factory=dict)


@dataclass
class _Transcript:
    key: str
    item_id: str
    prompt: object
    text: str = ""
    rounds: int = 0
    pending: str | None = None  # the program written in the last round, not yet run


def _continued(prompt, text: str):
    if not text:
        return prompt
    if isinstance(prompt, str):
        return prompt + text
    return list(prompt) + [{"role": "assistant", "content": text}]


def run_inference(items, backend, style: Style, cache: GenerationCache, *,
                  chunk: int | None = None, timeout: float = 5.0, memory_mb: int = 512,
                  workers: int | None = None, progress: Callable[[int], None] | None = None,
                  samples: int = 1) -> tuple[dict, InferenceStats]:
    """Outcomes for all items, keyed by (set, item id); generated ones are cached as they end.

    With ``samples`` K > 1 each item maps to a list of K outcomes. Sample s is cached under
    its own index (sample 0 under the key of a single generation), so a rerun with the same
    K asks nothing and a larger K asks only the samples not yet stored."""
    from mathgen.sandbox import Sandbox

    settings = dict(backend.settings)
    if style.name in ("tora", "pal"):  # what a program may do shapes the transcript
        settings["programs"] = {"timeout": timeout, "memory_mb": memory_mb}
    keys = {(it.set, it.id, n): cache.key(model=backend.name, style=style.key,
                                          settings=settings, item_id=it.id,
                                          question=it.question, sample=n)
            for it in items for n in range(samples)}
    questions = {keys[(it.set, it.id, n)]: it.question for it in items for n in range(samples)}
    stored = cache.get_many(keys.values())
    counts: dict[str, int] = {}
    for key in keys.values():
        counts[key] = counts.get(key, 0) + 1
    stats = InferenceStats()
    todo: dict[str, _Transcript] = {}
    for (_, item_id, n), key in keys.items():
        if key not in stored and key not in todo:
            # the id with its sample index seeds the backend, so samples differ
            todo[key] = _Transcript(key, item_id if n == 0 else f"{item_id}#{n}",
                                    style.prompt(questions[key]))
    stats.cached = sum(1 for key in keys.values() if key not in todo)
    if progress and stats.cached:
        progress(stats.cached)
    for key, (text, rounds, pending) in cache.get_rounds(todo).items():
        t = todo[key]
        t.text, t.rounds, t.pending = text, rounds, pending
        stats.resumed += 1
    results: dict[str, Outcome] = {k: Outcome(v) for k, v in stored.items()}
    chunk = chunk or getattr(backend, "chunk", None) or 256
    pending = list(todo.values())
    with Sandbox() as box:
        for start in range(0, len(pending), chunk):
            active = pending[start:start + chunk]
            while active:
                asking = [t for t in active if t.pending is None]
                answers = backend.generate(
                    [_continued(t.prompt, t.text) for t in asking], style.stop,
                    keys=[t.item_id for t in asking]) if asking else ()
                for index, text, error in answers:
                    t = asking[index]
                    if text is None:
                        results[t.key] = Outcome(None, error)
                        stats.failed += 1
                        kind = error.split(":")[0]
                        stats.failures[kind] = stats.failures.get(kind, 0) + 1
                        _done(counts, t, progress)
                        continue
                    t.text += text
                    t.pending = style.program(text, t.rounds)
                    if t.pending is None:
                        _finish(cache, results, stats, t)
                        _done(counts, t, progress)
                    else:  # this round's text is kept before its program runs
                        cache.put_round(t.key, t.item_id, t.text, t.rounds, t.pending)
                calls = [t for t in active if t.pending is not None]
                if not calls:
                    break
                runs = box.run_many([t.pending for t in calls], timeout=timeout,
                                    memory_mb=memory_mb, workers=workers)
                stats.programs += len(calls)
                active = []
                for t, run in zip(calls, runs):
                    t.text = style.splice(t.text, tool_output(run))
                    t.rounds, t.pending = t.rounds + 1, None
                    if style.continues:
                        cache.put_round(t.key, t.item_id, t.text, t.rounds, None)
                        active.append(t)
                    else:
                        _finish(cache, results, stats, t)
                        _done(counts, t, progress)
    if samples == 1:
        return {(name, item_id): results[v] for (name, item_id, _), v in keys.items()}, stats
    out: dict = {}
    for (name, item_id, _), v in keys.items():  # sample order: range(samples) above
        out.setdefault((name, item_id), []).append(results[v])
    return out, stats


def _finish(cache: GenerationCache, results: dict, stats: InferenceStats, t: _Transcript):
    cache.put(t.key, t.item_id, t.text, {"programs": t.rounds})
    results[t.key] = Outcome(t.text)
    stats.generated += 1


def _done(counts: dict, t: _Transcript, progress) -> None:
    if progress:
        progress(counts[t.key])  # items of several sets may share one generation
