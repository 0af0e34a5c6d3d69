"""Hugging Face datasets in and out: rows of ``hf:NAME[:CONFIG]:SPLIT``, records to Parquet.

    for line, row in read_dataset("hf:openai/gsm8k:main:test"):   # line 1 is row index 0
        ...

NAME is a dataset of the hub (read from its local cache under ``HF_DATASETS_OFFLINE=1``), a
folder written by ``save_to_disk``, or a local folder or file of Parquet, Arrow, JSON or CSV
data. A plain path ending in ``.parquet`` or ``.arrow`` is read the same way. Rows are
numbered from 1, as the lines of a JSONL file are, so that source ids, rejections and error
messages read the same whichever way a data set comes in.

``datasets`` and ``pyarrow`` are imported here only, and only when a data set is read or a
Parquet file written, so ``mathgen perturb`` on JSONL never loads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from mathgen.errors import InputError, MathgenError

PREFIX = "hf:"
_FILE_SUFFIXES = (".parquet", ".arrow")
_BUILDERS = {".parquet": "parquet", ".arrow": "arrow", ".json": "json", ".jsonl": "json",
             ".csv": "csv"}
_INSTALL = "install the extra: pip install 'mathgen-mmos[hf]'"


@dataclass(frozen=True)
class Spec:
    text: str  # as the user wrote it; errors name it
    name: str
    config: str | None
    split: str | None


def is_dataset(path) -> bool:
    """Whether an input is read through ``datasets`` rather than as JSONL."""
    text = str(path)
    return text.startswith(PREFIX) or Path(text).suffix in _FILE_SUFFIXES


def parse(path) -> Spec:
    """``hf:NAME``, ``hf:NAME:SPLIT``, ``hf:NAME:CONFIG:SPLIT`` or a ``.parquet``/``.arrow``
    path, split into its parts."""
    text = str(path)
    if not text.startswith(PREFIX):
        return Spec(text, text, None, None)
    parts = text[len(PREFIX):].split(":")
    if len(parts) > 3 or not all(parts):
        raise InputError("not a data set name", path=text,
                         hint="write hf:NAME, hf:NAME:SPLIT or hf:NAME:CONFIG:SPLIT")
    name, config, split = parts[0], None, None
    if len(parts) == 2:
        split = parts[1]
    elif len(parts) == 3:
        config, split = parts[1], parts[2]
    return Spec(text, name, config, split)


def stem(path) -> str:
    """The name source ids start with: the split (``test`` for ``hf:openai/gsm8k:main:test``,
    as GSM8K's ``test.jsonl`` gives ``test``), else the data set's last name part."""
    spec = parse(path)
    if spec.split is not None:
        return spec.split
    last = Path(spec.name.rstrip("/")).name
    return Path(last).stem if Path(last).suffix in _BUILDERS else last


def folder(path) -> str:
    """What tells two inputs of one stem apart: the data set's last name part, or the folder
    of a ``.parquet``/``.arrow`` file (as a JSONL file's folder does)."""
    spec = parse(path)
    name = Path(spec.name.rstrip("/"))
    return name.name if spec.split is not None else name.parent.name


def read_dataset(path) -> Iterator[tuple[int, dict]]:
    """``(row number from 1, row)`` of a data set; a null column is left out of the row, as
    a JSONL row without that field would be (Arrow gives every row every column)."""
    spec = parse(path)
    data = _load(spec)
    if len(data) == 0:
        raise InputError("the data set has no rows", path=spec.text,
                         hint="give a split with one problem per row")
    for number, row in enumerate(data.with_format(None), 1):
        yield number, {k: v for k, v in row.items() if v is not None}


def _load(spec: Spec):
    datasets = _import("datasets")
    from datasets.utils import logging as hf_logging

    # the library's progress bars and 'using the cached version' warnings would break the
    # one-summary-per-command output; they are restored afterwards for library callers
    verbosity, bars = hf_logging.get_verbosity(), datasets.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    local = Path(spec.name).expanduser()
    try:
        if local.is_dir() and ((local / "dataset_dict.json").is_file()
                               or (local / "state.json").is_file()):
            if spec.config is not None:
                raise InputError("a folder written by save_to_disk has no configs", path=spec.text,
                                 hint=f"write hf:{spec.name}:SPLIT")
            return _split(datasets.load_from_disk(str(local)), spec)
        if local.is_file():
            builder = _BUILDERS.get(local.suffix)
            if builder is None:
                raise InputError("not a data file datasets reads", path=spec.text,
                                 hint="give a .parquet, .arrow, .json, .jsonl or .csv file")
            return _split(datasets.load_dataset(builder, data_files=str(local)), spec)
        source = str(local) if local.is_dir() else spec.name
        if spec.split is None:
            return _split(datasets.load_dataset(source, spec.config), spec)
        return datasets.load_dataset(source, spec.config, split=spec.split)
    except (ValueError, OSError) as err:  # unknown split or config, not cached, not found
        message = " ".join(str(err).split())[:300] or type(err).__name__
        raise InputError(f"cannot load the data set ({message})", path=spec.text,
                         hint="check the name, config and split; offline, the data set must "
                              "be in the local cache") from None
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            datasets.enable_progress_bars()


def _split(data, spec: Spec):
    """The split the spec names out of a DatasetDict (or its only one when none is named)."""
    import datasets

    if not isinstance(data, datasets.DatasetDict):
        if spec.split is not None:
            raise InputError(f"no split {spec.split!r}: this data set was saved as one split",
                             path=spec.text, hint=f"write hf:{spec.name}")
        return data
    splits = list(data)
    if spec.split is None:
        if len(splits) == 1:
            return data[splits[0]]
        raise InputError(f"holds {len(splits)} splits; name one", path=spec.text,
                         hint=f"write hf:{spec.name}:SPLIT, SPLIT one of: {', '.join(splits)}")
    if spec.split not in data:
        raise InputError(f"no split {spec.split!r}", path=spec.text,
                         hint=f"the splits: {', '.join(splits)}")
    return data[spec.split]


def _import(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MathgenError(f"reading or writing Hugging Face data sets needs {module}; "
                           f"{_INSTALL}") from None


class ParquetRecords:
    """Records collected and written as one Parquet file when the run succeeds: a regular
    file is replaced atomically (``mathgen.io._Output``), so a failed run leaves an earlier
    file as it was. The schema is inferred from every record, not the first, and the table
    is read back before writing: records that no one schema holds (a field that is a number
    in one record and text in another) stop the run instead of losing a field."""

    def __init__(self, path):
        from mathgen.io import _Output

        self.path = Path(path)
        self._out = _Output(path, binary=True)
        self._rows: list[dict] = []
        self.count = 0

    def __enter__(self) -> "ParquetRecords":
        self._pa = _import("pyarrow")
        _import("pyarrow.parquet")
        self._out.__enter__()
        return self

    def write(self, record: dict) -> None:
        self._rows.append(record)
        self.count += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._out.__exit__(exc_type, exc, tb)
            return
        try:
            table = self._table()
        except MathgenError as err:
            self._out.__exit__(type(err), err, None)
            raise
        import pyarrow.parquet as pq

        try:
            pq.write_table(table, self._out.handle)
        except BaseException as err:
            self._out.__exit__(type(err), err, None)
            raise
        self._out.__exit__(None, None, None)

    def _table(self):
        pa = self._pa
        if not self._rows:
            return pa.table({})
        try:
            table = pa.Table.from_struct_array(pa.array(self._rows))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise MathgenError(f"{self.path}: the records do not fit one Parquet schema ({err}); "
                               "write JSONL instead") from None
        for number, (back, row) in enumerate(zip(table.to_pylist(), self._rows), 1):
            if _without_nulls(back) != _without_nulls(row):
                raise MathgenError(f"{self.path}: record {number} would not read back the same "
                                   "from Parquet; write JSONL instead")
        return table


def _without_nulls(value):
    """A value read back from Arrow, without the nulls its struct columns add."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
