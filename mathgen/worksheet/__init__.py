"""Printable worksheets: N problems drawn from templates or read from a variants file,
numbered, with room to work, and an answer key with the worked solutions, as PDF or HTML.

``make`` is what ``mathgen worksheet`` calls: the problems are chosen first (``items``),
every document is made in memory, and only then are the files written, each atomically, so
an error leaves no file half written.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from mathgen.errors import MathgenError

from .items import Item, Sheet, collect, readable

__all__ = ["Item", "Sheet", "Made", "collect", "kind_of", "make", "readable", "render"]

KINDS = {".pdf": "pdf", ".html": "html", ".htm": "html"}


@dataclass(frozen=True)
class Made:
    """What ``make`` did: the sheet, and lines that say what was left out."""

    sheet: Sheet
    notes: tuple[str, ...]


def kind_of(path: Path, option: str) -> str:
    """'pdf' or 'html' from the file name; a MathgenError for any other name or for an
    existing path that is not a regular file (a folder, a device, a pipe): a worksheet is a
    document to keep, and writing one into a device is never what was meant."""
    path = Path(path)
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise MathgenError(f"{option} {path}: give a file name ending .pdf or .html")
    try:
        mode = os.stat(os.path.realpath(path)).st_mode
    except OSError:
        return kind
    if not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise MathgenError(f"{option} {path}: is {what}; give the name of a file to write")
    return kind


def render(sheet: Sheet, kind: str, key: bool) -> bytes:
    """The worksheet (or, with ``key``, its answer key) as the bytes of a ``kind`` file."""
    if kind == "pdf":
        try:
            import reportlab  # noqa: F401  (the typesetter; only PDFs need it)
        except ImportError:
            raise MathgenError("a PDF worksheet needs ReportLab: pip install "
                               "'mathgen-mmos[worksheet]' (or write .html)") from None
        from . import pdf

        return pdf.answer_key(sheet) if key else pdf.worksheet(sheet)
    from . import html

    return (html.answer_key(sheet) if key else html.worksheet(sheet)).encode("utf-8")


def make(inputs: Iterable[Path], outputs: Iterable[Path], keys: Iterable[Path] = (), *,
         n: int = 10, seed: int = 0, strategy: str = "similar", tags: Iterable[str] = (),
         templates: Iterable[Path] = (), format: str | None = None, keep_order: bool = False,
         title: str = "Worksheet",
         paper: str = "a4", room: float = 5.0, tries: int = 500) -> Made:
    """Write the worksheet to each of ``outputs`` and its answer key to each of ``keys``
    (PDF or HTML by the file name); see ``items.collect`` for how problems are chosen."""
    from mathgen.io import write_bytes

    jobs = [(Path(p), kind_of(p, "-o"), False) for p in outputs]
    jobs += [(Path(p), kind_of(p, "--key"), True) for p in keys]
    if not title.strip():
        raise MathgenError("--title: give a title that is not blank")
    items, notes = collect(inputs, n=n, seed=seed, strategy=strategy, tags=tags,
                           templates=templates, format=format, keep_order=keep_order,
                           tries=tries)
    sheet = Sheet(title.strip(), tuple(items), seed, paper, room)
    documents = [(path, render(sheet, kind, key)) for path, kind, key in jobs]
    for path, data in documents:
        write_bytes(path, data)
    return Made(sheet, tuple(notes))
