"""The ``mathgen`` commands that ask a model: ``robustness-report`` and ``sample`` (added to
``mathgen.cli.main``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mathgen.cli_common import _REQUIRE_ISOLATION, _check, _fail, _pair, _require_isolation
from mathgen.errors import MathgenError
from mathgen.model_path import check_local


_BACKEND_OPTIONS = [
    click.option("--batch-size", type=click.IntRange(1), help="hf: prompts per batch."),
    click.option("--device", help="hf: cpu, cuda, cuda:1 ... (default: cuda when present)."),
    click.option("--dtype", type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
                 help="hf, vllm: weights and activations (default auto)."),
    click.option("--tensor-parallel-size", type=click.IntRange(1), help="vllm: GPUs per model."),
    click.option("--gpu-memory-utilization", type=click.FloatRange(0.05, 1.0), help="vllm."),
    click.option("--max-model-len", type=click.IntRange(16), help="vllm: context length."),
    click.option("--enforce-eager", is_flag=True, default=None,
                 help="vllm: no CUDA graphs or compilation (starts faster)."),
    click.option("--base-url", help="openai: the server, e.g. http://localhost:8000/v1."),
    click.option("--api-key-env", help="openai: environment variable holding the key "
                                       "(default OPENAI_API_KEY)."),
    click.option("--concurrency", type=click.IntRange(1, 1024),
                 help="openai: requests in flight."),
    click.option("--request-timeout", type=click.FloatRange(1),
                 help="openai: seconds per request."),
    click.option("--retries", type=click.IntRange(0, 100), help="openai: retries per request."),
    click.option("--retry-backoff", type=click.FloatRange(0, 60),
                 help="openai: seconds before the first retry, doubled each time (0.5)."),
    click.option("--retry-max-wait", type=click.FloatRange(0, 3600),
                 help="openai: the longest wait between tries, Retry-After included (60)."),
]


def _backend_options(command):
    """The options of the vllm, hf and openai backends (robustness-report, sample)."""
    for option in reversed(_BACKEND_OPTIONS):
        command = option(command)
    return command


@click.command("robustness-report")
@click.option("--set", "sets", multiple=True, required=True, metavar="NAME=FILE",
              help="An evaluation set: mathgen perturb output, or GSM8K, GSM-HARD, SVAMP, "
                   "ASDiv or ToRA rows; repeatable. The first is the baseline unless given.")
@click.option("--baseline", metavar="NAME", help="The set the others are paired with.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Folder for report.html, report.md, metrics.json, items.jsonl, plots/ and "
                   "the generation cache.")
@click.option("--backend", default="predictions", show_default=True,
              type=click.Choice(["predictions", "vllm", "hf", "openai"]))
@click.option("--model", help="Model path or name (vllm, hf, openai).")
@click.option("--predictions", "predictions", multiple=True, metavar="[NAME=]FILE",
              help="Model outputs by item id, or a ToRA output file (bound to one set with "
                   "NAME=FILE); repeatable.")
@click.option("--prompt", default="tora", show_default=True,
              type=click.Choice(["tora", "pal", "cot"]), help="Prompt style.")
@click.option("--chat-template", "chat", is_flag=True,
              help="Ask through the model's own chat template (pal, cot).")
@click.option("--few-shot", type=click.Path(dir_okay=False, path_type=Path),
              help="GSM8K-format worked examples for cot prompts.")
@click.option("--max-rounds", default=4, show_default=True, type=click.IntRange(1, 32),
              help="Programs a tora transcript may run.")
@click.option("--temperature", default=0.0, show_default=True, type=click.FloatRange(0, 5))
@click.option("--top-p", default=1.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--max-tokens", default=1024, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=0, show_default=True, type=int,
              help="Sampling and bootstrap seed.")
@click.option("--limit", type=click.IntRange(1), help="Only the first N items of each set.")
@click.option("--rel-tol", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Relative tolerance when grading.")
@click.option("--program-timeout", default=5.0, show_default=True,
              type=click.FloatRange(0.1, 600), help="Seconds each program may run.")
@click.option("--n", "samples", default=1, show_default=True, type=click.IntRange(1, 1000),
              help="Samples per item (needs --temperature > 0): maj@N, pass@1, pass@N.")
@_REQUIRE_ISOLATION
@_backend_options
def robustness_report(sets, baseline, out, backend, model, predictions, prompt, chat, few_shot,
                      max_rounds, temperature, top_p, max_tokens, seed, limit, rel_tol,
                      program_timeout, samples, require_isolation, **backend_options):
    """Run a model (or read its outputs) on original and perturbed sets, and report accuracy
    with intervals, paired drops with McNemar tests, accuracy by number size, consistency
    across instances, and GSM-HARD's sensible vs broken items."""
    from mathgen.robustness.backends import Sampling
    from mathgen.robustness.report import robustness_report as run_report

    _require_isolation(require_isolation)
    options = {k: v for k, v in backend_options.items() if v is not None}
    try:
        pairs = [_pair(v, "--set", True) for v in sets]
        bound = [_pair(v, "--predictions", False) for v in predictions]
        if backend == "predictions" and options:
            flag = "--" + next(iter(options)).replace("_", "-")
            raise MathgenError(f"{flag} needs --backend vllm, hf or openai")
        if backend in ("vllm", "hf"):  # an openai server names its models its own way
            check_local(model)
    except MathgenError as err:
        _fail(err)
    _with_progress("asking the model", lambda progress: run_report(
        pairs, out, baseline=baseline, backend=backend, model=model, predictions=bound,
        prompt=prompt, chat=chat, few_shot=few_shot, rounds=max_rounds,
        sampling=Sampling(temperature, top_p, max_tokens, seed), backend_options=options,
        limit=limit, rel_tol=rel_tol, timeout=program_timeout, seed=seed, progress=progress,
        samples=samples))


def _with_progress(label: str, run, quiet: bool = False) -> None:
    """``run(progress)`` under a progress bar that ``progress(done, total)`` moves; then
    its summary's lines, or the one-line error."""
    try:
        with click.progressbar(length=1, label=label, file=sys.stderr,
                               hidden=not sys.stderr.isatty()) as bar:
            def progress(n, total):
                bar.length = total
                bar.update(n)
            summary = run(progress)
    except MathgenError as err:
        _fail(err)
    for line in summary.lines():
        click.echo(line, err=quiet)


@click.command()
@click.argument("input", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL file of sampled paths (ToRA format, what mathgen mmos build reads); "
                   "the cache that makes runs resumable is OUTPUT.sqlite beside it.")
@click.option("--backend", default="vllm", show_default=True,
              type=click.Choice(["vllm", "hf", "openai"]))
@click.option("--model", required=True, help="Model path or name.")
@click.option("-n", "--n", "n", default=100, show_default=True, type=click.IntRange(1, 100000),
              help="Paths per question.")
@click.option("--prompt", default="tora", show_default=True,
              type=click.Choice(["tora", "pal", "cot"]), help="Prompt style.")
@click.option("--max-rounds", default=4, show_default=True, type=click.IntRange(1, 32),
              help="Programs a tora path may run.")
@click.option("--temperature", default=0.9, show_default=True, type=click.FloatRange(0, 5))
@click.option("--top-p", default=0.95, show_default=True, type=click.FloatRange(0, 1))
@click.option("--max-tokens", default=1024, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=0, show_default=True, type=int, help="Sampling seed.")
@click.option("--limit", type=click.IntRange(1), help="Only the first N questions.")
@click.option("--program-timeout", default=5.0, show_default=True,
              type=click.FloatRange(0.1, 600), help="Seconds each program may run.")
@_backend_options
def sample(input, output, backend, model, n, prompt, max_rounds, temperature, top_p,
           max_tokens, seed, limit, program_timeout, **backend_options):
    """Sample N reasoning paths per question of INPUT (GSM8K, SVAMP, ASDiv, GSM-HARD, ToRA
    rows or mathgen perturb output), running their programs in the sandbox."""
    from mathgen.robustness.backends import Sampling
    from mathgen.training.sample import sample_paths

    options = {k: v for k, v in backend_options.items() if v is not None}
    try:
        quiet = _check([("-o", output)], [("INPUT", input)])
        if backend in ("vllm", "hf"):
            check_local(model)
    except MathgenError as err:
        _fail(err)
    _with_progress("sampling", lambda progress: sample_paths(
        input, output, backend=backend, model=model, n=n,
        sampling=Sampling(temperature, top_p, max_tokens, seed), prompt=prompt,
        rounds=max_rounds, backend_options=options, limit=limit, timeout=program_timeout,
        progress=progress), quiet)
