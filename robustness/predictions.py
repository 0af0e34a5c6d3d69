"""The ``predictions`` backend: model outputs read from files instead of generated.

A file is bound to one set (``NAME=FILE``) or, given bare, to every set. Its rows are either
``{"id": ..., "output": "..."}`` (``prediction``, ``completion``, ``response``, ``generation``
or ``text`` also name the output), matched by item id, or ToRA output files (``idx``, ``code``:
a list whose first entry is the full model output), matched by position: ``idx`` 0 is the set
file's first row; a ToRA row's question must be that item's question.

An item's id is its variant ``id`` in ``mathgen perturb`` output (``test:12/similar/0/3``)
and ``NAME:LINE`` in any other set file (``gsm8k:12``: line 12 of set gsm8k). A variant may
also be named ``NAME:LINE`` (``large:40``: the 40th line of set large), as a loop that
numbers the lines of the file it was given would name it.

With ``--n K`` (``samples``) an item takes K outputs: several rows with the same id, in file
order, or one row with an ``outputs`` list (or both); an item with some outputs but not K is
an error, one with none is missing, as a single prediction is.

The samples file ``lm_eval --log_samples`` writes for a task of ``mathgen export lm-eval``
is a predictions file too: each row's ``doc`` carries the item id, ``resps`` the raw outputs.

A bare file's id that names items of several sets with different questions is an error
(bind the file to its set); a file that matches no item at all is an error too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mathgen.errors import InputError, MathgenError
from mathgen.io import read_jsonl
from mathgen.robustness.sets import normalise

OUTPUT_FIELDS = ("output", "prediction", "completion", "response", "generation", "text")


@dataclass(frozen=True)
class Predictions:
    outputs: dict  # (set, item id) -> model output (a list of K with --n K)
    unmatched: int  # rows that matched no item
    unmatched_example: str | None = None  # the first id that matched no item
    expected_example: str | None = None  # an id that would have matched


def _ids(items) -> dict:
    """Item by id: its own id, and NAME:LINE for a variant (where that is no item's id)."""
    by_id = {f"{it.set}:{it.source_line}": it for it in items if it.format == "variant"}
    by_id.update({it.id: it for it in items})
    return by_id


def _lm_eval_sample(row: dict, path: Path, line: int) -> dict:
    """A row of lm-eval's samples file as an ``{id, outputs}`` row."""
    doc, resps = row["doc"], row["resps"]
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        raise InputError("an lm-eval sample whose doc has no item id", path=path, line=line,
                         field="doc", hint="run lm_eval on the tasks mathgen export lm-eval "
                                           "writes: their docs carry the item ids")
    if not isinstance(resps, list) or len(resps) != 1 or not isinstance(resps[0], list) \
            or not resps[0] or not all(isinstance(r, str) for r in resps[0]):
        raise InputError("must hold one request's generated texts", path=path, line=line,
                         field="resps", hint="a generate_until task logs [[text, ...]]")
    return {"id": doc["id"], "outputs": resps[0]}


def _outputs(row: dict, path: Path, line: int) -> list[str]:
    if "outputs" in row and not ("idx" in row and "code" in row):
        value = row["outputs"]
        if not isinstance(value, list) or not value or \
                not all(isinstance(v, str) for v in value):
            raise InputError("must be a non-empty list of texts", path=path, line=line,
                             field="outputs")
        return value
    return [_output(row, path, line)]


def _output(row: dict, path: Path, line: int) -> str:
    if "idx" in row and "code" in row:
        code = row["code"]
        value = code[0] if isinstance(code, list) and code else code
        field = "code"
    else:
        field = next((f for f in OUTPUT_FIELDS if f in row), None)
        if field is None:
            raise InputError("no output field", path=path, line=line,
                             hint=f"name the model output one of: {', '.join(OUTPUT_FIELDS)}")
        value = row[field]
    if not isinstance(value, str):
        raise InputError("the model output must be text", path=path, line=line, field=field)
    return value


def read_predictions(files, sets: dict, samples: int = 1) -> Predictions:
    """Outputs for the items of ``sets`` (name -> items) from ``files``: (set or None, path).
    With ``samples`` K > 1 each item maps to a list of its K outputs."""
    outputs: dict[tuple[str, str], list[str]] = {}
    where: dict[tuple[str, str], tuple[Path, int]] = {}
    unmatched = 0
    unmatched_example = expected_example = None
    for bound, path in files:
        path = Path(path)
        if bound is not None and bound not in sets:
            raise MathgenError(f"--predictions {bound}={path}: no set named {bound!r} "
                               f"(sets: {', '.join(sets)})")
        targets = [bound] if bound is not None else list(sets)
        by_id = {name: _ids(sets[name]) for name in targets}
        by_row = {name: {item.row: item for item in sets[name]} for name in targets}
        seen: set = set()
        answered: set = set()
        matched = 0
        for line, row in read_jsonl(path):
            if "doc" in row and "resps" in row:
                row = _lm_eval_sample(row, path, line)
            texts = _outputs(row, path, line)
            if samples == 1 and len(texts) > 1:
                raise InputError(f"{len(texts)} outputs for one item", path=path, line=line,
                                 field="outputs", hint=f"ask for them all with --n {len(texts)}")
            if "idx" in row and "code" in row:
                if len(targets) != 1:
                    raise InputError("a ToRA file is matched by position, so it needs a set",
                                     path=path, line=line, field="idx",
                                     hint="bind it to one set: --predictions NAME=FILE")
                idx = row["idx"]
                if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
                    raise InputError("must be a whole number from 0", path=path, line=line,
                                     field="idx")
                key, matches = idx, [by_row[targets[0]].get(idx)]
                asked = row.get("question")
                if matches[0] is not None and isinstance(asked, str) and \
                        normalise(asked) != normalise(matches[0].question):
                    raise InputError(f"idx {idx} asks another question than row {idx} of set "
                                     f"{targets[0]!r}", path=path, line=line, field="question",
                                     hint="bind the file to the set it was made from")
            else:
                key = row.get("id")
                if not isinstance(key, str):
                    raise InputError("missing or not text", path=path, line=line, field="id",
                                     hint="each prediction names the item id it answers")
                matches = [by_id[name].get(key) for name in targets]
            if key in seen and samples == 1:
                raise InputError(f"{key!r} appears twice", path=path, line=line,
                                 field="idx" if isinstance(key, int) else "id",
                                 hint="give one output per item")
            seen.add(key)
            matches = [m for m in matches if m is not None]
            if len({m.question for m in matches}) > 1:
                raise InputError(f"{key!r} names items of several sets with different questions",
                                 path=path, line=line, field="id",
                                 hint="bind the file to one set: --predictions NAME=FILE")
            unmatched += not matches
            if not matches and unmatched_example is None:
                unmatched_example = str(key)
                expected_example = next((sets[t][0].id for t in targets if sets[t]), None)
            matched += bool(matches)
            for item in matches:
                if (item.set, item.id) in answered and samples == 1:  # id and NAME:LINE
                    raise InputError(f"{key!r} answers item {item.id!r} a second time",
                                     path=path, line=line, field="id",
                                     hint="give one output per item")
                answered.add((item.set, item.id))
                outputs.setdefault((item.set, item.id), []).extend(texts)
                where[(item.set, item.id)] = (path, line)
        if seen and not matched:
            raise InputError("no row matches an item of " + ", ".join(targets), path=path,
                             hint=f"ids look like {_example(sets, targets)}: a variant's own "
                                  "id, or NAME:LINE for any row; bind a ToRA file to the set "
                                  "it was made from")
    for key, texts in outputs.items():
        if len(texts) != samples:
            path, line = where[key]
            raise InputError(f"item {key[1]!r} of set {key[0]!r} has {len(texts)} outputs, "
                             f"not {samples}", path=path, line=line, field="id",
                             hint=f"give each item {samples} outputs, or change --n")
    if samples == 1:
        return Predictions({k: v[0] for k, v in outputs.items()}, unmatched,
                           unmatched_example, expected_example)
    return Predictions(outputs, unmatched, unmatched_example, expected_example)


def _example(sets: dict, targets) -> str:
    items = [sets[t][0] for t in targets if sets[t]]
    return " or ".join(repr(it.id) for it in items[:2]) or "NAME:LINE"
