"""The data loader and the metric of the lm-eval tasks that ``mathgen export lm-eval`` writes.

``mathgen export lm-eval`` copies this file beside the task YAML files as ``utils.py``;
lm-eval loads it through the tasks' ``!function utils.load`` and
``!function utils.process_results``. Each item of a task is one row of its data file::

    {"id": "test:1/similar/0/0", "set": "hard", "question": "Janet's ducks lay 42 eggs ...",
     "target": "288", "rel_tol": 0.0}

An output is graded as ``mathgen robustness-report`` grades it: ``mathgen.answers.extract``
finds the final answer, ``mathgen.answers.grade`` compares it with ``target`` exactly (up to
``rel_tol``, float noise for GSM-HARD's float labels), so a task's ``exact_match`` is the
report's accuracy on the same outputs.
"""

from __future__ import annotations

from pathlib import Path


def load(data_files=None, **_metadata):
    """The task's splits, read with ``datasets``' json loader from the data files named in
    the task's ``dataset_kwargs``, relative to this file's folder (so the folder can move).
    lm-eval also passes the task's metadata (and the model's arguments); they are ignored."""
    import datasets

    if not isinstance(data_files, dict) or not data_files:
        raise ValueError("the task names no data files: its YAML needs "
                         "dataset_kwargs: {data_files: {test: data/NAME.jsonl}}")
    here = Path(__file__).resolve().parent
    files = {split: str(here / name) for split, name in data_files.items()}
    for split, name in files.items():
        if not Path(name).is_file():
            raise FileNotFoundError(f"{name}: the {split} data of this task is missing "
                                    "(hint: export the tasks again with mathgen export lm-eval)")
    return datasets.load_dataset("json", data_files=files)


def process_results(doc, results):
    """``exact_match`` of one model output (``results[0]``) against the item's answer."""
    try:
        from mathgen.answers import extract, grade
    except ImportError as err:
        raise ImportError("these tasks grade answers with mathgen: pip install mathgen-mmos "
                          "in the environment that runs lm_eval") from err
    found = extract(results[0])
    verdict = grade(found.text, doc["target"], rel_tol=float(doc.get("rel_tol") or 0.0))
    return {"exact_match": 1.0 if verdict.correct else 0.0}
