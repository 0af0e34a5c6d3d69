"""JSONL in and out: line-numbered errors on the way in, atomic writes on the way out.

Only this module opens data files. ``read_jsonl`` yields ``(line_number, object)``; a bad line
raises an InputError naming the file and line, or, with ``skip_invalid=True``, is yielded as
``(line_number, InputError)`` so the caller can record it as a rejection.
"""

from __future__ import annotations

import json
import os
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


class AtomicJsonl:
    """Write JSON lines to a temporary file beside ``path``; it replaces ``path`` on success.

    An interrupted or failed run leaves any earlier file at ``path`` untouched.
    """

    def __init__(self, path):
        self.path = Path(path)
        self._handle = None
        self.count = 0

    def __enter__(self) -> "AtomicJsonl":
        directory = self.path.parent if str(self.path.parent) else Path(".")
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=directory)
        except OSError as err:
            raise MathgenError(f"{self.path}: cannot write here ({err.strerror}); "
                               "give an output path in a writable folder") from None
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._tmp, 0o666 & ~umask)  # as an ordinary open() would create it
        self._handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        return self

    def write(self, record: dict) -> None:
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.count += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        self._handle.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            os.unlink(self._tmp)


def write_jsonl(path, records: Iterable[dict]) -> int:
    """Write all records atomically; returns how many were written."""
    with AtomicJsonl(path) as out:
        for record in records:
            out.write(record)
    return out.count


def write_text(path, text: str) -> None:
    """Write a whole text file atomically (a temporary file beside it, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
