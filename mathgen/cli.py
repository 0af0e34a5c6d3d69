"""The ``mathgen`` command line. Each command parses options and calls one library function.

Errors a user can cause print one line, ``mathgen: error: FILE:LINE: ...``, and exit with 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mathgen import __version__
from mathgen.cli_common import _REQUIRE_ISOLATION, _check, _fail, _pair, _require_isolation
from mathgen.cli_export import export
from mathgen.cli_models import robustness_report, sample
from mathgen.cli_worksheet import worksheet
from mathgen.errors import MathgenError
from mathgen.formats import FORMATS
from mathgen.model_path import check_local
from mathgen.training.config import click_options as _train_options
from mathgen.wording import counted


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mathgen")
def main() -> None:
    """Exact, sensible perturbations of grade-school math word problems."""


@main.command()
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL file for the variants (Parquet where it ends .parquet).")
@click.option("--strategy", default="similar", show_default=True, metavar="NAME",
              help="similar, mmos-similar, mmos-large, gsm-hard, digits:K or distractor.")
@click.option("-n", "n", default=1, show_default=True, type=click.IntRange(1, 100000),
              help="Variants per problem.")
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same bytes.")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS) + ["template", "gsm-symbolic"]),
              help="Input format (detected from the fields or the file name when not given).")
@click.option("--templates", "templates", multiple=True, metavar="PATH",
              type=click.Path(path_type=Path),
              help="Template files or folders to draw from (mathgen's '.jinja' files or "
                   "GSM-Symbolic '.json' files); repeatable.")
@click.option("--tag", "tags", multiple=True, metavar="SKILL",
              help="Only templates tagged with this skill (or steps:N); repeatable.")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL file for the problems that gave no variant, with reasons.")
@click.option("--skip-invalid", is_flag=True,
              help="Record malformed rows as rejections instead of stopping.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 512),
              help="Worker processes (the output does not depend on it).")
@click.option("--unconstrained", is_flag=True,
              help="Turn the sensibility constraints off (reproduces GSM-HARD-style flaws).")
@click.option("--tries", default=500, show_default=True, type=click.IntRange(1, 1000000),
              help="Draws per variant before a problem is rejected.")
@click.option("--verify-with", "verify_with", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Programs that solved the inputs (ToRA outputs, GSM-HARD, or "
                   "{source_line, program} lines); variants they contradict are rejected.")
@click.option("--verify-timeout", default=5.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Seconds each program may run in the sandbox.")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Read every problem afresh instead of using the symbolic forms cached in "
                   "$MATHGEN_CACHE_DIR (default ~/.cache/mathgen); the output is the same.")
def perturb(inputs, output, strategy, n, seed, fmt, templates, tags, rejects, skip_invalid,
            workers, unconstrained, tries, verify_with, verify_timeout, no_cache):
    """Write variants of GSM-style problems with new numbers and exact answers.

    INPUTS are JSONL files (GSM8K, SVAMP, ASDiv, GSM-HARD or ToRA outputs) or templates
    (folders, '.jinja' files, GSM-Symbolic '.json' files), which give N instances each. With
    no input, mathgen's own template library is used.
    """
    from mathgen.generator.run import perturb_files

    try:
        quiet = _check([("-o", output), ("--rejects", rejects)],
                       [("INPUT", p) for p in inputs] + [("--templates", p) for p in templates]
                       + [("--verify-with", p) for p in verify_with])
        total = sum(_count_rows(p) for p in inputs)
        with click.progressbar(length=total, label="perturbing", file=sys.stderr,
                               hidden=total < 200 or not sys.stderr.isatty()) as bar:
            summary = perturb_files(inputs, output, rejects=rejects, format=fmt,
                                    skip_invalid=skip_invalid, strategy=strategy, n=n,
                                    seed=seed, constrained=not unconstrained, tries=tries,
                                    workers=workers, verify_with=verify_with,
                                    verify_timeout=verify_timeout, templates=templates,
                                    tags=tags, progress=bar.update, cache=not no_cache)
    except MathgenError as err:
        _fail(err)
    for line in summary.lines():
        click.echo(line, err=quiet)
    click.echo(f"variants: {output}" + (f"; rejections: {rejects}" if rejects else ""),
               err=quiet)


@main.command()
@click.argument("inputs", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the template files (one per problem, named after its id).")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)),
              help="Input format (detected from the fields when not given).")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL file for the problems that give no template, with reasons.")
@click.option("--skip-invalid", is_flag=True,
              help="Record malformed rows as rejections instead of stopping.")
def templatize(inputs, output, fmt, rejects, skip_invalid):
    """Write the symbolic form of each problem as a template file to read and edit.

    Perturbing the folder gives the same variants as perturbing INPUTS with the same seed.
    """
    from mathgen.generator.run import templatize_files

    try:
        quiet = _check([("--rejects", rejects)], [("INPUT", p) for p in inputs])
        summary = templatize_files(inputs, output, format=fmt, skip_invalid=skip_invalid,
                                   rejects=rejects)
    except MathgenError as err:
        _fail(err)
    lines = summary.lines()
    lines[1] = f"wrote {counted(summary.variants, 'template')} to {output}"
    for line in lines:
        click.echo(line, err=quiet)


@main.group()
def audit() -> None:
    """Audit published data sets."""


@audit.command("gsm-hard")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--gsm8k", "gsm8k", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="GSM8K test.jsonl, the questions GSM-HARD was made from.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL file with the classes of every item.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@click.option("--timeout", default=5.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Seconds each program may run in the sandbox.")
@click.option("--workers", type=click.IntRange(1, 512),
              help="Programs run at once (default: CPUs).")
@_REQUIRE_ISOLATION
def audit_gsm_hard(path, gsm8k, output, as_json, timeout, workers, require_isolation):
    """Class GSM-HARD items: negative or fractional labels, questions left unchanged, numbers
    the text and program disagree on, and labels its own programs do not reproduce."""
    import json

    from mathgen.robustness.audit import audit_gsm_hard as run_audit
    from mathgen.robustness.audit import table, write_items

    _require_isolation(require_isolation)
    try:
        quiet = _check([("-o", output)], [("PATH", path), ("--gsm8k", gsm8k)])
        result = run_audit(path, gsm8k, timeout=timeout, workers=workers)
        if output:
            write_items(result, output)
    except MathgenError as err:
        _fail(err)
    if as_json:
        click.echo(json.dumps(result.summary()), err=quiet)
    else:
        for line in table(result):
            click.echo(line, err=quiet)
        if output:
            click.echo(f"items: {output}", err=quiet)



@main.group()
def mmos() -> None:
    """The MMOS recipe: minimal optimal sets of reasoning paths for fine-tuning."""


@mmos.command("build")
@click.argument("samples", nargs=-1, required=True, metavar="[NAME=]FILE...")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL file of prompt/completion lines.")
@click.option("--k", "k", default=3, show_default=True, type=click.IntRange(1, 100000),
              help="Most diverse paths kept per question.")
@click.option("--mix", multiple=True, metavar="NAME=RATIO",
              help="Share of a source's questions in the set: 1, 0.5, 1/3, 2 (twice); "
                   "repeatable; sources not named keep 1.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the mix.")
@click.option("--stats", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON file with the counts of every stage and the k vs N table.")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL file with every path left out and why.")
@click.option("--workers", type=click.IntRange(1, 512),
              help="Processes that run programs and normalise paths (default: CPUs; the "
                   "output does not depend on it).")
@click.option("--timeout", default=5.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Seconds each program may run in the sandbox.")
@click.option("--no-execute", "no_execute", is_flag=True,
              help="Trust the outputs the paths show instead of running their programs again "
                   "(paths from mathgen sample: the sandbox printed them).")
def mmos_build(samples, output, k, mix, seed, stats, rejects, workers, timeout, no_execute):
    """Build a fine-tuning set from sampled paths (ToRA outputs, or rows with question,
    answer, completions): keep the paths whose answer is right and whose programs reproduce
    their outputs, drop duplicates, keep the K most diverse per question, and mix sources.
    A source is NAME=FILE, or the file name up to its first dot; files of one source pool
    their paths by question."""
    from mathgen.training.mmos import build
    from mathgen.training.select import parse_ratio

    try:
        specs = [(name, path) for name, path in (_pair(v, "FILE", False) for v in samples)]
        ratios = {}
        for value in mix:
            name, sep, ratio = value.partition("=")
            if not sep or not name:
                raise MathgenError(f"--mix {value!r}: write NAME=RATIO, e.g. gsm8k=0.5")
            if name in ratios:
                raise MathgenError(f"--mix {name} is given twice")
            try:
                ratios[name] = parse_ratio(ratio)
            except ValueError as err:
                raise MathgenError(f"--mix {name}: {err}") from None
        quiet = _check([("-o", output), ("--stats", stats), ("--rejects", rejects)],
                       [("FILE", p) for _, p in specs])
        total = sum(_count_rows(p) for _, p in specs)
        with click.progressbar(length=total, label="building", file=sys.stderr,
                               hidden=total < 200 or not sys.stderr.isatty()) as bar:
            summary = build(specs, output, k=k, mix=ratios, seed=seed, stats=stats,
                            rejects=rejects, workers=workers, timeout=timeout,
                            execute=not no_execute, progress=bar.update)
    except MathgenError as err:
        _fail(err)
    for line in summary.lines():
        click.echo(line, err=quiet)
    if stats:
        click.echo(f"stats: {stats}", err=quiet)


@main.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML file of training options; flags override it.")
@click.option("--resume", is_flag=True,
              help="Go on from the newest checkpoint-N folder in --output.")
@_train_options
def train(config_file, resume, **options):
    """Fine-tune a causal language model on prompt/completion rows (mmos build) or GSM8K rows
    (perturb variants), with the loss on completion tokens only. Defaults follow the MMOS
    recipe; runs under accelerate launch or torchrun on many GPUs (docs/training.md)."""
    from mathgen.training.config import load_config

    try:
        options["data"] = options["data"] or None
        config = load_config(config_file, **options)
        check_local(config.model)  # before a loader asks a model hub for a mistyped folder
        from mathgen.training.sft import train as fine_tune

        summary = fine_tune(config, resume=resume, echo=click.echo)
    except MathgenError as err:
        _fail(err)
    stopped = summary.get("stopped")
    if stopped:  # as a shell reports a signal (130 for Ctrl-C), so `train && evaluate` stops
        import signal

        sys.exit(128 + getattr(signal, stopped, signal.SIGINT))


def _count_rows(path: Path) -> int:
    from mathgen.hfdata import is_dataset

    if is_dataset(path):
        return 0  # counting would load it twice; the bar stays hidden
    if path.is_dir() or path.suffix in (".jinja", ".json"):
        return 1
    try:
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
        return 0  # reading it later raises the error with its reason


# the commands that ask a model live in their own module
main.add_command(robustness_report)
main.add_command(sample)
main.add_command(export)
main.add_command(worksheet)

if __name__ == "__main__":
    main()
