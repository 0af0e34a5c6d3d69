"""A cache of symbolic forms, so a second perturb of the same problems skips reading them.

Reading a worked solution (``symbolic.build``) is most of the cost of a problem's first
variant; its result depends only on the problem's content and on mathgen's code. Each entry
is one file, named by a SHA-256 over both, holding either the symbolic form or the
rejection ``build`` gave (reason and detail), so a rejected problem costs nothing either::

    <sha256 of the body>
    {"format": 1, "key": "3f9c...", "symbolic": {"c": "SymbolicProblem", "f": [...]}}

Why one file per entry, written to a temporary name and renamed: concurrent runs (and the
workers of one run) never hold a lock or see half an entry, a rename is atomic on every
platform Python supports, and a damaged file costs one problem, not the whole cache.
Why JSON and not pickle: reading a cache file must never run code, even from a folder that
``MATHGEN_CACHE_DIR`` points at and others can write; the codec below builds only the
record classes it names. Every read checks the checksum, the format and the key; an entry
that fails any check is built again and rewritten, never trusted.

The folder is ``$MATHGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/mathgen``, else
``~/.cache/mathgen``, with the entries of each code version in a folder of their own
(``symbolic/<fingerprint>/``); those of other versions are removed after a week unused. A
folder that cannot be written is no error: the run reads problems as if there were no cache.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from mathgen.errors import UnsupportedProblem
from mathgen.numbers import Mention
from mathgen.records import Problem

from .quantities import Variable
from .symbolic import Slot, Step, SymbolicProblem, build

FORMAT = 1  # of an entry's body; a change to the codec below changes it
ENV = "MATHGEN_CACHE_DIR"
_UNUSED_SECONDS = 7 * 24 * 3600  # another version's entries unused this long are removed
# the records a symbolic form is made of, and nothing else, can be built from a file
_CLASSES = {cls.__name__: cls for cls in (SymbolicProblem, Step, Slot, Variable, Mention,
                                          Problem)}


def default_folder() -> Path:
    """Where entries live: $MATHGEN_CACHE_DIR, $XDG_CACHE_HOME/mathgen or ~/.cache/mathgen."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    base = os.environ.get("XDG_CACHE_HOME")  # relative values are to be ignored (XDG spec)
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "mathgen"


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of mathgen's version, the Python version and the source of the code that reads
    problems (the ``mathgen`` kernel and ``mathgen.generator``): any edit changes it."""
    import mathgen
    from mathgen import generator

    return source_fingerprint([Path(mathgen.__file__).parent, Path(generator.__file__).parent],
                              f"{mathgen.__version__}|{sys.version_info[:2]}|{FORMAT}")


def source_fingerprint(roots: list[Path], salt: str = "") -> str:
    """SHA-256 over ``salt`` and every '.py' file below ``roots`` (names and bytes)."""
    digest = hashlib.sha256(salt.encode())
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def problem_key(problem: Problem, fingerprint: str) -> str:
    """The entry's name: every field ``build`` reads (the id and line are not read: the same
    problem in another file shares the entry) and the code's fingerprint."""
    content = json.dumps([fingerprint, problem.question, problem.solution,
                          str(problem.final_answer), problem.format], ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


@dataclasses.dataclass(frozen=True)
class SymbolicCache:
    """Symbolic forms (and build's rejections) on disk; picklable, so workers share it."""

    folder: Path
    fingerprint: str

    @classmethod
    def open(cls, folder: Path | None = None) -> SymbolicCache:
        """The cache of this code in ``folder`` (default: ``default_folder()``); the entries
        of other versions unused for a week are removed."""
        cache = cls(Path(folder) if folder is not None else default_folder(), code_fingerprint())
        cache._prune()
        return cache

    @property
    def root(self) -> Path:
        # one folder per code fingerprint: an upgrade leaves whole folders behind, which
        # _prune can remove without reading a single entry
        return self.folder / "symbolic" / self.fingerprint[:16]

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def _prune(self) -> None:
        now = time.time()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            os.utime(self.root)  # in use: another version's run must not remove it
            for other in self.root.parent.iterdir():
                if other != self.root and other.is_dir() \
                        and now - other.stat().st_mtime > _UNUSED_SECONDS:
                    shutil.rmtree(other, ignore_errors=True)
        except OSError:
            pass  # an unwritable folder: entries are not written either

    def build(self, problem: Problem) -> SymbolicProblem:
        """``symbolic.build(problem)``, read from the cache when an intact entry is there;
        raises the same UnsupportedProblem (reason and detail) for a rejected problem."""
        key = problem_key(problem, self.fingerprint)
        entry = self._read(key)
        if entry is None:
            try:
                symbolic = build(problem)
            except UnsupportedProblem as err:
                self._write(key, {"unsupported": [err.reason, err.detail]})
                raise
            self._write(key, {"symbolic": encode(dataclasses.replace(symbolic, problem=None))})
            return symbolic
        if "unsupported" in entry:
            reason, detail = entry["unsupported"]
            raise UnsupportedProblem(reason, detail)
        return dataclasses.replace(entry["symbolic"], problem=problem)

    def _read(self, key: str) -> dict | None:
        """The decoded entry, or None when it is missing or fails a check."""
        try:
            data = self.path(key).read_bytes()
        except OSError:
            return None
        checksum, _, body = data.partition(b"\n")
        if hashlib.sha256(body).hexdigest().encode() != checksum:
            return None  # truncated, or written over by something else
        try:
            entry = json.loads(body)
            if entry.get("format") != FORMAT or entry.get("key") != key:
                return None
            if "unsupported" in entry:
                reason, detail = entry["unsupported"]
                if isinstance(reason, str) and isinstance(detail, str):
                    return entry
                return None
            symbolic = decode(entry["symbolic"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if not isinstance(symbolic, SymbolicProblem):
            return None
        return {"symbolic": symbolic}

    def _write(self, key: str, value: dict) -> None:
        body = json.dumps({"format": FORMAT, "key": key, **value}, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{key[:8]}-",
                                            suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
                os.replace(temp, target)  # atomic: readers see the old entry or the new
            except BaseException:
                os.unlink(temp)
                raise
        except OSError:
            pass  # a read-only or full disk: the run goes on without caching this problem


def encode(value):
    """A JSON-ready form of a symbolic form's values: tuples are arrays; Fractions, lists,
    dicts, frozensets and the record classes are tagged objects. Types are kept exactly
    (3 and Fraction(3) differ), so a decoded form renders the same bytes."""
    kind = type(value)
    if value is None or kind in (bool, int, str, float):
        return value
    if kind is tuple:
        return [encode(v) for v in value]
    if kind is Fraction:
        return {"q": [value.numerator, value.denominator]}
    if kind is list:
        return {"l": [encode(v) for v in value]}
    if kind is frozenset:
        return {"s": [encode(v) for v in value]}
    if kind is dict:
        return {"d": [[encode(k), encode(v)] for k, v in value.items()]}
    if _CLASSES.get(kind.__name__) is kind:
        return {"c": kind.__name__,
                "f": [encode(getattr(value, f.name)) for f in dataclasses.fields(value)]}
    raise TypeError(f"the symbolic cache cannot store a {kind.__name__}")


def decode(data):
    """The value ``encode`` gave ``data`` for; ValueError for anything it cannot have given."""
    kind = type(data)
    if kind is list:  # map, not a generator: most of a cached run's reading is here
        return tuple(map(decode, data))
    if kind is not dict:
        return data
    if len(data) == 1:
        (tag, inner), = data.items()
        if tag == "q":
            numerator, denominator = inner
            if type(numerator) is int and type(denominator) is int:
                return Fraction(numerator, denominator)
        elif tag == "l":
            return list(map(decode, inner))
        elif tag == "s":
            return frozenset(map(decode, inner))
        elif tag == "d":
            return {decode(k): decode(v) for k, v in inner}
    elif data.keys() == {"c", "f"} and data["c"] in _CLASSES:
        return _CLASSES[data["c"]](*map(decode, data["f"]))
    raise ValueError(f"not an entry of the symbolic cache: {str(data)[:80]}")
