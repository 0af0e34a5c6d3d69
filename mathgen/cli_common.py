"""What the ``mathgen`` commands share: one-line errors, output checks, NAME=FILE pairs and
the sandbox's isolation option."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mathgen.errors import MathgenError


def _check(outputs, inputs=()) -> bool:
    """Refuse an output that is an input (or another output); True when an output is stdout,
    so the summary goes to stderr and the data alone to stdout."""
    from mathgen.io import check_outputs

    check_outputs(outputs, inputs)
    return any(path is not None and str(path) == "-" for _, path in outputs)


def _fail(err: Exception) -> None:
    click.echo("mathgen: error: " + " ".join(str(err).split()), err=True)  # one line
    sys.exit(2)


_REQUIRE_ISOLATION = click.option(
    "--require-isolation", is_flag=True,
    help="Refuse to run programs unless the sandbox has its full OS isolation here.")


def _require_isolation(required: bool) -> None:
    if required:
        from mathgen.sandbox import require_isolation

        try:
            require_isolation()
        except MathgenError as err:
            _fail(err)


def _pair(value: str, option: str, need_name: bool) -> tuple[str | None, Path]:
    """NAME=FILE, or a bare FILE where allowed (a path such as 'lr=1/p.jsonl' stays a path)."""
    import re

    name, sep, path = value.partition("=")
    if sep and re.fullmatch(r"[\w.+-]+", name) and path:
        return name, Path(path)
    if need_name:
        raise MathgenError(f"{option} {value!r}: write NAME=FILE (NAME: letters, digits, "
                           "'.', '+', '-', '_')")
    return None, Path(value)
