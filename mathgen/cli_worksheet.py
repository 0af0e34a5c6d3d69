"""``mathgen worksheet``: printable problems with room to work, and their answer key."""

from __future__ import annotations

from pathlib import Path

import click

from mathgen.cli_common import _check, _fail
from mathgen.errors import MathgenError
from mathgen.formats import FORMATS
from mathgen.wording import counted


@click.command()
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--output", "outputs", multiple=True, required=True, metavar="FILE",
              type=click.Path(path_type=Path),
              help="The worksheet: a .pdf or .html file (repeatable, for both).")
@click.option("--key", "keys", multiple=True, metavar="FILE",
              type=click.Path(path_type=Path),
              help="The answer key, with worked solutions: a .pdf or .html file (repeatable).")
@click.option("-n", "n", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Problems on the sheet.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Which problems, their numbers and their order; same seed, same bytes.")
@click.option("--tag", "tags", multiple=True, metavar="SKILL",
              help="Only templates tagged with this skill (or steps:N); repeatable.")
@click.option("--digits", type=click.IntRange(1, 12), metavar="K",
              help="Numbers of K digits, where a template lets a number grow (--strategy "
                   "digits:K).")
@click.option("--strategy", default="similar", show_default=True, metavar="NAME",
              help="How template numbers are drawn, as in perturb: similar, digits:K, "
                   "mmos-similar, mmos-large, gsm-hard, distractor.")
@click.option("--templates", "templates", multiple=True, metavar="PATH",
              type=click.Path(path_type=Path),
              help="Template files or folders to draw from; repeatable.")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)),
              help="Format of the problem files (detected from the fields when not given).")
@click.option("--keep-order", is_flag=True,
              help="Problems in the order of the inputs instead of an order set by the seed.")
@click.option("--title", default="Worksheet", show_default=True, help="Heading of the pages.")
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
@click.option("--room", default=5.0, show_default=True, type=click.FloatRange(1, 20),
              help="Centimetres of room to work under each problem.")
def worksheet(inputs, outputs, keys, n, seed, tags, digits, strategy, templates, fmt,
              keep_order, title, paper, room):
    """Write a printable worksheet of N problems, numbered, with room to work under each,
    and an answer key (--key) with every worked solution and final answer.

    INPUTS are templates (folders, '.jinja' files, GSM-Symbolic '.json' files), drawn with
    the seed as perturb draws them, or problem files such as the variants perturb writes,
    printed as they are. With no input, mathgen's own template library is used.
    """
    from mathgen.worksheet import make

    try:
        if digits is not None:
            if strategy != "similar":
                raise MathgenError(f"--digits {digits} and --strategy {strategy}: give one "
                                   "of them")
            strategy = f"digits:{digits}"
        _check([("-o", p) for p in outputs] + [("--key", p) for p in keys],
               [("INPUT", p) for p in inputs] + [("--templates", p) for p in templates])
        made = make(inputs, outputs, keys, n=n, seed=seed, strategy=strategy, tags=tags,
                    templates=templates, format=fmt, keep_order=keep_order, title=title,
                    paper=paper, room=room)
    except MathgenError as err:
        _fail(err)
    for note in made.notes:
        click.echo(note)
    click.echo(f"wrote {counted(len(made.sheet.items), 'problem')}: "
               + ", ".join(str(p) for p in outputs))
    if keys:
        click.echo("answer key: " + ", ".join(str(p) for p in keys))
    else:
        click.echo("no answer key written (add --key FILE)")
