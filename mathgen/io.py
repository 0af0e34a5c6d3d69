"""JSONL in and out: line-numbered errors on the way in, atomic writes on the way out.

Only this module opens data files. ``read_jsonl`` yields ``(line_number, object)``; a bad line
raises an InputError naming the file and line, or, with ``skip_invalid=True``, is yielded as
``(line_number, InputError)`` so the caller can record it as a rejection.

``read_rows`` is what readers of problems and sets call: JSONL, or a Hugging Face data set
(``hf:NAME[:CONFIG]:SPLIT``, a ``.parquet`` or ``.arrow`` file) through ``mathgen.hfdata``,
whose rows are numbered from 1 like lines. ``open_records`` writes JSONL, or Parquet for an
output named ``*.parquet``.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from mathgen.errors import InputError, MathgenError

_HINT = "each line must be one JSON object, as in GSM8K's test.jsonl"


def read_jsonl(path, skip_invalid: bool = False) -> Iterator[tuple[int, dict | InputError]]:
    """Objects of a JSONL file with their 1-based line numbers; blank lines are skipped."""
    path = Path(path)
    try:
        handle = open(path, "rb")
    except OSError as err:
        raise InputError(f"cannot read the file ({err.strerror})", path=path,
                         hint="check the path") from None
    seen = False
    with handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            seen = True
            try:
                yield number, _parse_line(raw, path, number)
            except InputError as err:
                if not skip_invalid:
                    raise
                yield number, err
    if not seen:
        raise InputError("the file is empty", path=path,
                         hint="give a JSONL file with one problem per line")


def read_rows(path, skip_invalid: bool = False) -> Iterator[tuple[int, dict | InputError]]:
    """``(line or row number, object)`` of a JSONL file or a data set (see ``mathgen.hfdata``)."""
    from mathgen import hfdata

    if hfdata.is_dataset(path):
        return hfdata.read_dataset(path)
    return read_jsonl(path, skip_invalid=skip_invalid)


def stem(path) -> str:
    """The name an input's source ids start with: a file's stem (``test`` for test.jsonl), a
    data set's split (``test`` for hf:openai/gsm8k:main:test)."""
    from mathgen import hfdata

    if hfdata.is_dataset(path):
        return hfdata.stem(path)
    return Path(path).stem


def _parse_line(raw: bytes, path: Path, number: int) -> dict:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text (is this a binary file?)", path=path, line=number,
                         hint=_HINT) from None
    if "\x00" in text:
        raise InputError("contains NUL bytes (is this a binary file?)", path=path, line=number,
                         hint=_HINT)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON ({err.msg} at column {err.colno})", path=path,
                         line=number, hint=_HINT) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", path=path, line=number, hint=_HINT) from None
    except ValueError as err:  # an integer of more than 4300 digits
        raise InputError(f"not readable JSON ({err})", path=path, line=number,
                         hint=_HINT) from None
    if _has_surrogate(obj):
        raise InputError("holds a lone surrogate escape such as \\ud800, not text", path=path,
                         line=number, hint="fix the \\u escapes of that line")
    if not isinstance(obj, dict):
        raise InputError(f"expected a JSON object, found {type(obj).__name__}", path=path,
                         line=number, hint=_HINT)
    return obj


def _has_surrogate(obj) -> bool:
    if isinstance(obj, str):
        return any("\ud800" <= ch <= "\udfff" for ch in obj)
    if isinstance(obj, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in obj.items())
    if isinstance(obj, list):
        return any(_has_surrogate(v) for v in obj)
    return False


class _Output:
    """Where one output goes: a regular file is written to a temporary beside it and renamed
    over it at the end; stdout (``-``), a FIFO, a device or /proc/self/fd/N is written in place
    as it comes, because renaming over it would turn it into a regular file (``/dev/null``).

    A symlink writes its target, so the link stays. Temporaries are named
    ``.NAME.mathgen-PID-XXXX.tmp``; the next run on NAME removes those whose PID is gone.
    """

    def __init__(self, path, binary: bool = False):
        self.path = Path(path)
        self.binary = binary
        self._handle = self._tmp = None

    @property
    def handle(self):
        """The open file (or stdout), for writers that write through a library."""
        return self._handle

    def __enter__(self):
        if str(self.path) == "-":
            self._handle = sys.stdout.buffer if self.binary else sys.stdout
            return self
        target = Path(os.path.realpath(self.path))  # a symlink's target; the link is kept
        try:
            kind = os.stat(target).st_mode
        except OSError:
            kind = None
        if kind is not None and not stat.S_ISREG(kind):
            if stat.S_ISDIR(kind):
                raise MathgenError(f"{self.path}: is a folder; give a file name")
            self._handle = self._open(lambda: open(target, "wb") if self.binary else
                                      open(target, "w", encoding="utf-8", newline="\n"))
            return self
        directory = target.parent
        prefix, suffix = f".{target.name}.mathgen-", ".tmp"

        def create():
            directory.mkdir(parents=True, exist_ok=True)
            _remove_stale(directory, prefix, suffix)
            return tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}-", suffix=suffix,
                                    dir=directory)

        fd, self._tmp = self._open(create)
        self._target = target
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._tmp, 0o666 & ~umask)  # as an ordinary open() would create it
        self._handle = os.fdopen(fd, "wb") if self.binary else \
            os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        return self

    def _open(self, how):
        try:
            return how()
        except OSError as err:
            raise MathgenError(f"{self.path}: cannot write here ({err.strerror}); "
                               "give an output path in a writable folder") from None

    def write(self, text: str) -> None:
        self._handle.write(text)

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._handle in (sys.stdout, getattr(sys.stdout, "buffer", None)):
            self._handle.flush()
            return
        self._handle.close()
        if self._tmp is None:
            return
        if exc_type is None:
            os.replace(self._tmp, self._target)
        else:
            os.unlink(self._tmp)


def _remove_stale(directory: Path, prefix: str, suffix: str) -> None:
    """Delete temporaries a killed run left for this output (their PID no longer runs)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        pid = name[len(prefix):].split("-", 1)[0]
        if not pid.isdigit() or _running(int(pid)):
            continue
        try:
            os.unlink(directory / name)
        except OSError:
            pass


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def check_outputs(outputs, inputs=()) -> None:
    """Refuse an output that is one of the inputs or another output (also through a link):
    writing it would destroy what is being read."""
    seen = []
    for option, path in outputs:
        if path is None or str(path) == "-":
            continue
        for other_option, other in list(inputs) + seen:
            if other is None or str(other) == "-":
                continue
            if not _same(path, other):
                continue
            if (other_option, other) in seen:
                raise MathgenError(f"{option} {path} is the same file as {other_option}; "
                                   "outputs must differ")
            raise MathgenError(f"{option} {path} is the same file as an input ({other}); "
                               "give another output path")
        seen.append((option, path))


def _same(a, b) -> bool:
    try:
        if os.path.samefile(a, b):
            return not stat.S_ISCHR(os.stat(a).st_mode)  # /dev/null may be both
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


class AtomicJsonl:
    """Write JSON lines to ``path``: a regular file is replaced only on success, so an
    interrupted or failed run leaves any earlier file untouched; ``-``, a FIFO or a device is
    streamed in place (see ``_Output``)."""

    def __init__(self, path):
        self.path = Path(path)
        self._out = _Output(path)
        self.count = 0

    def __enter__(self) -> "AtomicJsonl":
        self._out.__enter__()
        return self

    def write(self, record: dict) -> None:
        self._out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.count += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        self._out.__exit__(exc_type, exc, tb)


def open_records(path):
    """The writer of an output of records: Parquet where the name ends ``.parquet`` (the
    same fields as the JSONL lines), JSONL otherwise. Both are atomic for regular files."""
    if Path(str(path)).suffix == ".parquet":
        from mathgen.hfdata import ParquetRecords

        return ParquetRecords(path)
    return AtomicJsonl(path)


def write_jsonl(path, records: Iterable[dict]) -> int:
    """Write all records atomically; returns how many were written."""
    with AtomicJsonl(path) as out:
        for record in records:
            out.write(record)
    return out.count


def write_text(path, text: str) -> None:
    """Write a whole text file atomically (or in place where it is not a regular file)."""
    with _Output(path) as out:
        out.write(text)


def write_bytes(path, data: bytes) -> None:
    """Write a whole binary file (a PDF) atomically, as ``write_text`` writes text."""
    with _Output(path, binary=True) as out:
        out.write(data)
