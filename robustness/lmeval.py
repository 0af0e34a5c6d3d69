"""``mathgen export lm-eval``: evaluation sets as tasks of EleutherAI's lm-evaluation-harness.

    export_lmeval([("hard", "variants.jsonl")], "tasks", name="mathgen")
    # lm_eval --include_path tasks --tasks mathgen --model hf --model_args pretrained=M

The folder holds one task per set (``NAME_SET.yaml``), a group over them (``NAME.yaml``), the
sets' items as JSON lines (``data/SET.jsonl``, read with lm-eval's ``dataset_path: json``),
and ``utils.py`` (``mathgen.robustness.lmeval_utils``) that loads them relative to itself, so
the folder works wherever it is moved, and grades every output with ``mathgen.answers``:
a task's ``exact_match`` is the accuracy ``mathgen robustness-report`` gives on the same
outputs (the samples lm-eval logs with ``--log_samples`` are a predictions file it reads).

The prompt is GSM8K's in lm-eval: ``Question: ...\\nAnswer:``, greedy, stopped at the next
``Question:``; worked examples (GSM8K rows) make it few-shot, their solutions ending
``#### N`` with the calculator annotations removed. A set is read as the report reads it
(``robustness.sets``), rows whose gold answer is no number skipped and counted alike.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
from dataclasses import dataclass, field
from pathlib import Path

from mathgen.errors import InputError, MathgenError
from mathgen.io import read_jsonl, write_jsonl, write_text
from mathgen.robustness.metrics import tolerance
from mathgen.robustness.sets import read_set

MANIFEST = "mathgen-export.json"  # the files an export wrote, so the next one may replace them
STOP = ("Question:", "</s>", "<|im_end|>")
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_ANNOTATION = re.compile(r"<<[^<>]*>>")


@dataclass
class ExportSummary:
    out: Path
    name: str
    tasks: dict = field(default_factory=dict)  # task name -> items
    skipped: dict = field(default_factory=dict)  # task name -> rows skipped (gold is no number)
    shots: int = 0

    def lines(self) -> list[str]:
        out = []
        for task, n in self.tasks.items():
            out.append(f"task {task}: {n} items" + (f", {self.skipped[task]} rows skipped "
                                                    "(gold answer not a number)"
                                                    if self.skipped.get(task) else ""))
        shots = f", {self.shots}-shot" if self.shots else ", zero-shot"
        out.append(f"wrote group {self.name} of {len(self.tasks)} tasks{shots} to {self.out}")
        out.append(f"run: lm_eval --include_path {shlex.quote(str(self.out))} --tasks {self.name} "
                   "--model hf --model_args pretrained=MODEL --log_samples --output_path OUT")
        return out


def _task_name(group: str, set_name: str) -> str:
    return f"{group}_{re.sub(r'[^A-Za-z0-9_-]', '_', set_name)}"


def few_shot_rows(path) -> list[dict]:
    """Worked examples (GSM8K rows: question, answer ending '#### N') as few-shot docs."""
    path = Path(path)
    rows = []
    for line, row in read_jsonl(path):
        for name in ("question", "answer"):
            if not isinstance(row.get(name), str) or not row[name].strip():
                raise InputError("missing or not text", path=path, line=line, field=name,
                                 hint="few-shot examples are GSM8K rows: question, answer")
        steps, hashes, final = row["answer"].rpartition("####")
        if not hashes or not final.strip():
            raise InputError("has no final '#### N' line", path=path, line=line, field="answer",
                             hint="end each worked solution with a line such as '#### 18'")
        solution = f"{_ANNOTATION.sub('', steps).strip()}\n#### {final.strip()}"
        rows.append({"question": row["question"].strip(), "target": solution})
    if not rows:
        raise InputError("no examples", path=path, hint="give at least one worked example")
    return rows


def _yaml_list(values) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def task_yaml(task: str, data: str, *, shots: int, max_tokens: int) -> str:
    """The YAML of one generation task over ``data`` (relative to the folder)."""
    files = f"    test: {data}\n" + ("    fewshot: data/fewshot.jsonl\n" if shots else "")
    few = (f"fewshot_split: fewshot\nnum_fewshot: {shots}\nfewshot_config:\n"
           "  sampler: first_n\n") if shots else ""
    return (f"# written by mathgen export lm-eval; graded by utils.py with mathgen.answers\n"
            f"task: {task}\n"
            "dataset_path: json\n"
            "dataset_kwargs:\n  data_files:\n" + files +
            "custom_dataset: !function utils.load\n"
            "test_split: test\n" + few +
            "output_type: generate_until\n"
            f"doc_to_text: {json.dumps('Question: {{question}}' + chr(10) + 'Answer:')}\n"
            "doc_to_target: \"{{target}}\"\n"
            "target_delimiter: \" \"\n"
            f"fewshot_delimiter: {json.dumps(chr(10) * 2)}\n"
            "generation_kwargs:\n"
            f"  until: {_yaml_list(STOP)}\n"
            "  do_sample: false\n"
            "  temperature: 0.0\n"
            f"  max_gen_toks: {max_tokens}\n"
            "process_results: !function utils.process_results\n"
            "metric_list:\n"
            "  - metric: exact_match\n    aggregation: mean\n    higher_is_better: true\n"
            "metadata:\n  version: 1.0\n")


def group_yaml(group: str, tasks) -> str:
    """The YAML of the group: exact_match over all items of its tasks (weighted by size)."""
    body = "".join(f"  - {t}\n" for t in tasks)
    return (f"# written by mathgen export lm-eval\ngroup: {group}\ntask:\n{body}"
            "aggregate_metric_list:\n"
            "  - metric: exact_match\n    aggregation: mean\n    weight_by_size: true\n"
            "metadata:\n  version: 1.0\n")


def _prepare(out: Path) -> list[str]:
    """Check that ``out`` may be written: absent, empty, or an earlier export (whose files are
    listed in its manifest and replaced). Returns the files of the earlier export."""
    if out.exists() and not out.is_dir():
        raise MathgenError(f"-o {out}: is not a folder; give a new or empty folder")
    if not out.exists() or not any(out.iterdir()):
        return []
    if (out / "data").is_symlink():
        raise MathgenError(f"{out / 'data'}: is a link, so nothing is written through it; "
                           "remove it or give another folder")
    manifest = out / MANIFEST
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError):
        raise MathgenError(f"-o {out}: the folder holds files that mathgen export did not write;"
                           " give a new or empty folder") from None
    for name in listed:
        path = out / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise MathgenError(f"{manifest}: lists {name!r}, which is not inside the folder; "
                               "give a new or empty folder")
        if path.is_symlink() or (path.exists() and not stat.S_ISREG(os.stat(path).st_mode)):
            raise MathgenError(f"{path}: is not a regular file (a link, pipe or device), so it "
                               "is not replaced; remove it or give another folder")
    return listed


def export_lmeval(sets, out, *, name: str = "mathgen", few_shot=None, shots: int | None = None,
                  max_tokens: int = 256) -> ExportSummary:
    """Write the task folder ``out`` for ``sets`` ((set name, file) pairs); see the module doc.

    Args:
        few_shot: a GSM8K-format file of worked examples; ``shots`` of them (default all)
            come before every question, in file order.
    """
    if not _NAME.fullmatch(name):
        raise MathgenError(f"--name {name!r}: use letters, digits, '_' and '-' only")
    names = [n for n, _ in sets]
    if not names:
        raise MathgenError("no set given (hint: mathgen export lm-eval NAME=FILE ...)")
    tasks = {n: _task_name(name, n) for n in names}
    if len(set(tasks.values())) != len(names):
        raise MathgenError(f"set names must differ (as task names): {', '.join(names)}")
    if shots is not None and few_shot is None:
        raise MathgenError("--num-fewshot needs --few-shot FILE (the worked examples)")
    examples = few_shot_rows(few_shot) if few_shot is not None else []
    if shots is not None and shots > len(examples):
        raise MathgenError(f"--num-fewshot {shots}: {few_shot} holds {len(examples)} examples")
    shots = len(examples) if shots is None else shots
    out = Path(out)
    if str(out) == "-":
        raise MathgenError("-o -: the tasks are several files; give a folder")
    try:
        earlier = _prepare(out)
    except OSError as err:
        raise MathgenError(f"-o {out}: cannot read the folder ({err.strerror or err})") from None
    summary = ExportSummary(out, name, shots=shots)
    rows = {}
    for set_name, path in sets:
        items, skipped = read_set(set_name, path)
        rows[set_name] = [{"id": it.id, "set": it.set, "question": it.question,
                           "target": it.gold, "rel_tol": float(tolerance(it))} for it in items]
        summary.tasks[tasks[set_name]] = len(items)
        if skipped:
            summary.skipped[tasks[set_name]] = len(skipped)
    written = []

    def put(relative: str, text: str | None = None, records=None) -> None:
        path = out / relative
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise MathgenError(f"{path}: is not a regular file, so it is not replaced; remove "
                               "it or give another folder")
        if records is not None:
            write_jsonl(path, records)
        else:
            write_text(path, text)
        written.append(relative)

    try:
        (out / "data").mkdir(parents=True, exist_ok=True)
        for set_name in names:
            data = f"data/{tasks[set_name]}.jsonl"
            put(data, records=rows[set_name])
            put(f"{tasks[set_name]}.yaml", task_yaml(tasks[set_name], data, shots=shots,
                                                     max_tokens=max_tokens))
        if shots:
            put("data/fewshot.jsonl", records=examples[:shots])
        put(f"{name}.yaml", group_yaml(name, [tasks[n] for n in names]))
        put("utils.py", (Path(__file__).parent / "lmeval_utils.py").read_text(encoding="utf-8"))
        for stale in set(earlier) - set(written) - {MANIFEST}:
            (out / stale).unlink(missing_ok=True)
        write_text(out / MANIFEST, json.dumps({"files": written + [MANIFEST]}, indent=1) + "\n")
    except OSError as err:
        raise MathgenError(f"-o {out}: cannot write the tasks ({err.strerror or err})") from None
    return summary
