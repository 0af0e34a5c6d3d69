"""generator.cache: a second perturb reads symbolic forms from disk and writes the same bytes;
damaged entries are built again, rejections are kept, concurrent runs do not clash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import require_data, write_rows
from hypothesis import given
from hypothesis import strategies as st

from mathgen.cli import main
from mathgen.errors import UnsupportedProblem
from mathgen.generator import build
from mathgen.generator.cache import (SymbolicCache, code_fingerprint, decode, default_folder,
                                     encode, problem_key, source_fingerprint)
from mathgen.generator.run import perturb_files
from mathgen.records import Problem

ROWS = [
    {"question": "A baker fills 12 trays with 9 rolls each. She sells 70 rolls. How many rolls "
                 "are left?",
     "answer": "She bakes 12 * 9 = <<12*9=108>>108 rolls.\nShe has 108 - 70 = <<108-70=38>>38 "
               "rolls left.\n#### 38"},
    {"question": "Omar reads 15 pages a day for 6 days, then 20 pages on the last day. How many "
                 "pages does he read?",
     "answer": "In 6 days he reads 15 * 6 = <<15*6=90>>90 pages.\nIn all he reads 90 + 20 = "
               "<<90+20=110>>110 pages.\n#### 110"},
    {"question": "A garden has 4 rows of 25 tulips. A third of the 300 roses are red. How many "
                 "flowers are not red roses?",
     "answer": "There are 4 * 25 = <<4*25=100>>100 tulips.\nThere are 300 / 3 = <<300/3=100>>100 "
               "red roses.\nSo 100 + 300 - 100 = <<100+300-100=300>>300 flowers are not red "
               "roses.\n#### 300"},
    # no calculation at all: build rejects it ('no-steps'), and the cache keeps that
    {"question": "Lena has 7 marbles. How many marbles does she have?",
     "answer": "She has 7 marbles.\n#### 7"},
    {"question": "Tickets cost $8 each. Mia buys 5 tickets and pays with a $50 bill. How much "
                 "change does she get?",
     "answer": "The tickets cost 8 * 5 = $<<8*5=40>>40.\nHer change is 50 - 40 = $<<50-40=10>>10."
               "\n#### 10"},
]


def _problem(row: dict, source_id: str = "t:1") -> Problem:
    final = Fraction(row["answer"].rsplit("####", 1)[1].strip())
    return Problem(source_id, 1, row["question"], row["answer"], final, "gsm8k")


def _run(tmp_path, data, name, cache, workers=1, strategy="similar", n=2):
    out, rej = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.rej.jsonl"
    perturb_files([data], out, rejects=rej, strategy=strategy, n=n, seed=3, workers=workers,
                  cache=cache)
    return out.read_bytes() + b"\0" + rej.read_bytes()


def _entries(folder: Path) -> list[Path]:
    return sorted((folder / "symbolic").rglob("*.json"))


@pytest.mark.parametrize("workers", [1, 2])
def test_same_bytes_with_and_without_the_cache(tmp_path, workers):
    data = write_rows(tmp_path / "in.jsonl", ROWS)
    folder = tmp_path / "cache"
    plain = _run(tmp_path, data, "plain", cache=False, workers=1)
    first = _run(tmp_path, data, "first", cache=folder, workers=workers)
    assert len(_entries(folder)) == len(ROWS)  # the rejected problem has its entry too
    second = _run(tmp_path, data, "second", cache=folder, workers=workers)
    assert plain == first == second
    assert b"no-steps" in plain


def test_same_bytes_on_gsm8k_test_for_any_worker_count(tmp_path):
    rows = require_data("gsm8k/test.jsonl").read_text(encoding="utf-8").splitlines()[:150]
    data = tmp_path / "test.jsonl"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    folder = tmp_path / "cache"
    plain = _run(tmp_path, data, "plain", cache=False, strategy="mmos-large", n=1)
    for workers in (2, 1):  # the first run fills the cache from two workers
        assert _run(tmp_path, data, f"w{workers}", cache=folder, workers=workers,
                    strategy="mmos-large", n=1) == plain


def test_a_cached_form_equals_the_built_one_and_keeps_the_problem(tmp_path):
    cache = SymbolicCache.open(tmp_path)
    for row in ROWS[:3] + ROWS[4:]:
        problem = _problem(row)
        built = cache.build(problem)
        again = cache.build(_problem(row, source_id="other:9"))  # read from the entry
        assert again.problem.source_id == "other:9"
        assert again == type(built)(again.problem, *[getattr(built, f) for f in (
            "mentions", "variables", "steps", "final", "slots", "pinned", "same", "order",
            "parts")])
        assert built == build(problem)


def test_a_rejection_is_cached_with_its_reason(tmp_path):
    cache = SymbolicCache.open(tmp_path)
    problem = _problem(ROWS[3])
    with pytest.raises(UnsupportedProblem) as first:
        cache.build(problem)
    entry = json.loads(_entries(tmp_path)[0].read_bytes().partition(b"\n")[2])
    assert entry["unsupported"] == [first.value.reason, first.value.detail] \
        and first.value.reason == "no-steps"
    with pytest.raises(UnsupportedProblem) as second:
        cache.build(problem)
    assert (second.value.reason, second.value.detail) == (first.value.reason, first.value.detail)


def test_an_entry_is_read_not_rebuilt(tmp_path):
    """A well-formed entry is what the cache answers: proof that a second run skips build."""
    cache = SymbolicCache.open(tmp_path)
    problem = _problem(ROWS[0])
    key = problem_key(problem, cache.fingerprint)
    cache._write(key, {"unsupported": ["written-by-test", "a reason only this test gives"]})
    with pytest.raises(UnsupportedProblem, match="only this test"):
        cache.build(problem)


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    checksum, _, body = data.partition(b"\n")
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        path.write_bytes(data[:-5] + bytes([data[-5] ^ 1]) + data[-4:])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "not-json":  # a right checksum over a body that is not an entry
        body = b"{not json"
        path.write_bytes(__import__("hashlib").sha256(body).hexdigest().encode() + b"\n" + body)
    elif how == "other-format":
        entry = json.loads(body)
        entry["format"] = 0
        body = json.dumps(entry).encode()
        path.write_bytes(__import__("hashlib").sha256(body).hexdigest().encode() + b"\n" + body)
    elif how == "foreign-class":  # a class the codec does not name is never built
        entry = json.loads(body)
        entry["symbolic"] = {"c": "Popen", "f": [["rm", "-rf", "/"]]}
        body = json.dumps(entry).encode()
        path.write_bytes(__import__("hashlib").sha256(body).hexdigest().encode() + b"\n" + body)


@pytest.mark.parametrize("how", ["truncated", "flipped", "empty", "not-json", "other-format",
                                 "foreign-class"])
def test_a_damaged_entry_is_built_again_and_rewritten(tmp_path, how):
    cache = SymbolicCache.open(tmp_path / "cache")
    problem = _problem(ROWS[1])
    expected = build(problem)
    cache.build(problem)
    (path,) = _entries(tmp_path / "cache")
    intact = path.read_bytes()
    _damage(path, how)
    assert path.read_bytes() != intact
    assert cache.build(problem) == expected
    assert path.read_bytes() == intact


@pytest.mark.parametrize("field, value", [
    ("question", "A baker fills 12 trays with 9 buns each. She sells 70 rolls. How many rolls "
                 "are left?"),
    ("solution", ROWS[0]["answer"].replace("She bakes", "The baker bakes")),
    ("final_answer", Fraction(39)),
    ("format", "svamp"),
])
def test_the_key_reads_every_field_build_reads(field, value):
    problem = _problem(ROWS[0])
    changed = Problem(**{**problem.__dict__, field: value})
    assert problem_key(changed, "f") != problem_key(problem, "f")
    assert problem_key(problem, "f") != problem_key(problem, "g")  # code changes: new keys
    moved = Problem(**{**problem.__dict__, "source_id": "x:5", "source_line": 5})
    assert problem_key(moved, "f") == problem_key(problem, "f")


def test_the_fingerprint_follows_the_source(tmp_path):
    """An edited comment, or a new module, in a copy of the generator changes its hash."""
    import shutil

    from mathgen import generator

    copy = tmp_path / "generator"
    shutil.copytree(Path(generator.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = source_fingerprint([copy])
    assert source_fingerprint([copy]) == before
    search = copy / "search.py"
    search.write_text(search.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    edited = source_fingerprint([copy])
    (copy / "reading").mkdir()
    (copy / "reading" / "new.py").write_text("X = 1\n", encoding="utf-8")
    assert len({before, edited, source_fingerprint([copy])}) == 3
    assert source_fingerprint([copy], "0.1.0") != source_fingerprint([copy], "0.2.0")
    assert len(code_fingerprint()) == 64


def test_other_versions_entries_go_after_a_week_unused(tmp_path):
    base = tmp_path / "symbolic"
    old, recent = base / "0123456789abcdef", base / "fedcba9876543210"
    for folder, days in ((old, 8), (recent, 1)):
        (folder / "ab").mkdir(parents=True)
        (folder / "ab" / "entry.json").write_text("x")
        stamp = time.time() - days * 24 * 3600
        os.utime(folder, (stamp, stamp))
    cache = SymbolicCache.open(tmp_path)
    assert not old.exists() and recent.exists() and cache.root.is_dir()
    cache.build(_problem(ROWS[0]))
    assert [p.parent.parent for p in _entries(tmp_path) if "entry" not in p.name] == [cache.root]


def test_the_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MATHGEN_CACHE_DIR", str(tmp_path / "here"))
    assert default_folder() == tmp_path / "here"
    monkeypatch.delenv("MATHGEN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_folder() == tmp_path / "xdg" / "mathgen"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the XDG rule says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_folder() == tmp_path / "home" / ".cache" / "mathgen"


def test_cli_caches_by_default_and_not_with_no_cache(tmp_path, monkeypatch):
    data = write_rows(tmp_path / "in.jsonl", ROWS)
    folder = tmp_path / "cache"
    monkeypatch.setenv("MATHGEN_CACHE_DIR", str(folder))
    runner = CliRunner()
    off = runner.invoke(main, ["perturb", str(data), "-o", str(tmp_path / "a.jsonl"),
                               "--no-cache"])
    assert off.exit_code == 0, off.output
    assert not folder.exists()
    on = runner.invoke(main, ["perturb", str(data), "-o", str(tmp_path / "b.jsonl")])
    assert on.exit_code == 0, on.output
    assert len(_entries(folder)) == len(ROWS)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_an_unwritable_folder_only_turns_the_cache_off(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be")
    data = write_rows(tmp_path / "in.jsonl", ROWS)
    assert _run(tmp_path, data, "a", cache=blocker / "cache") == _run(tmp_path, data, "b",
                                                                        cache=False)


def test_concurrent_runs_leave_only_intact_entries(tmp_path):
    """Two processes fill one folder at once; every entry then reads back whole."""
    data = write_rows(tmp_path / "in.jsonl", ROWS * 1)
    folder = tmp_path / "cache"
    script = ("import sys; from pathlib import Path; from mathgen.generator.run import "
              "perturb_files; perturb_files([Path(sys.argv[1])], Path(sys.argv[2]), n=1, "
              "cache=Path(sys.argv[3]))")
    runs = [subprocess.Popen([sys.executable, "-c", script, str(data),
                              str(tmp_path / f"out{i}.jsonl"), str(folder)]) for i in range(2)]
    assert [r.wait(timeout=120) for r in runs] == [0, 0]
    cache = SymbolicCache.open(folder)
    entries = _entries(folder)
    assert len(entries) == len(ROWS)
    assert all(cache._read(p.stem) is not None for p in entries)
    assert not list(folder.rglob("*.tmp"))
    assert (tmp_path / "out0.jsonl").read_bytes() == (tmp_path / "out1.jsonl").read_bytes()


LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
                   st.fractions(), st.floats(allow_nan=False))
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(
    st.tuples(inner, inner), st.lists(inner, max_size=3).map(tuple), st.lists(inner, max_size=3),
    st.dictionaries(st.text(max_size=3), inner, max_size=3)), max_leaves=12)


@given(VALUES)
def test_decode_inverts_encode_and_keeps_every_type(value):
    back = decode(json.loads(json.dumps(encode(value))))
    assert back == value and _types(back) == _types(value)


def _types(value):
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, [_types(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(_types(k), _types(v)) for k, v in value.items()])
    return type(value).__name__
