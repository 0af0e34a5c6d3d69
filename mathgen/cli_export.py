"""``mathgen export``: evaluation sets written for the tools users already run (added to
``mathgen.cli.main``)."""

from __future__ import annotations

from pathlib import Path

import click

from mathgen.cli_common import _check, _fail, _pair
from mathgen.errors import MathgenError


@click.group()
def export() -> None:
    """Write evaluation sets for other tools (lm-eval)."""


@export.command("lm-eval")
@click.argument("sets", nargs=-1, required=True, metavar="[NAME=]FILE...")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Folder for the task YAML files, utils.py and data/ (new, empty, or an "
                   "earlier export).")
@click.option("--name", default="mathgen", show_default=True,
              help="The group's name; the tasks are NAME_SET.")
@click.option("--few-shot", "few_shot", type=click.Path(dir_okay=False, path_type=Path),
              help="GSM8K-format worked examples to put before each question.")
@click.option("--num-fewshot", "shots", type=click.IntRange(1, 1000),
              help="How many of the --few-shot examples (default: all), in file order.")
@click.option("--max-tokens", default=256, show_default=True, type=click.IntRange(1),
              help="Tokens the model may write per question.")
def lm_eval(sets, output, name, few_shot, shots, max_tokens):
    """Write lm-evaluation-harness tasks, one per set and a group over them, that
    `lm_eval --include_path OUTPUT --tasks NAME` runs, graded exactly as mathgen
    robustness-report grades. A set is NAME=FILE (mathgen perturb output, or GSM8K, GSM-HARD,
    SVAMP, ASDiv or ToRA rows), or a FILE named by its file name up to the first dot."""
    from mathgen.robustness.lmeval import export_lmeval

    try:
        specs = []
        for value in sets:
            set_name, path = _pair(value, "FILE", False)
            specs.append((set_name or path.name.split(".")[0], path))
        _check([("-o", output)], [("FILE", p) for _, p in specs] + [("--few-shot", few_shot)])
        summary = export_lmeval(specs, output, name=name, few_shot=few_shot, shots=shots,
                                max_tokens=max_tokens)
    except MathgenError as err:
        _fail(err)
    for line in summary.lines():
        click.echo(line)
