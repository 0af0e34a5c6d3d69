"""Shared test helpers: where the reference data sets live, and small JSONL builders.

Test modules import these directly (``from conftest import DATA, require_data``).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# perturb caches symbolic forms in the user's cache folder by default: the tests (and the
# commands they start) keep theirs in a folder of their own, not in ~/.cache, removed when
# the run ends
if "MATHGEN_CACHE_DIR" not in os.environ:
    os.environ["MATHGEN_CACHE_DIR"] = tempfile.mkdtemp(prefix="mathgen-test-cache-")
    atexit.register(shutil.rmtree, os.environ["MATHGEN_CACHE_DIR"], ignore_errors=True)

# ../shared/data beside the project root; a fresh clone has none, CI always has it.
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def require_data(relative: str) -> Path:
    """The reference file ``DATA / relative``; skips the calling test when it is absent."""
    path = DATA / relative
    if not path.exists():
        pytest.skip(f"reference data {relative} not found under {DATA} "
                    "(the ../shared/data folder is only present in CI and the dev checkout)")
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """The tiny tool-integrated Llama of ``tiny_models``, trained once per session."""
    pytest.importorskip("torch", reason="the tiny-model tests need torch (pip install torch)")
    pytest.importorskip("transformers", reason="the tiny-model tests need transformers")
    from tiny_models import tiny_tora_model

    return tiny_tora_model(tmp_path_factory.mktemp("tiny-model"))


def write_rows(path: Path, rows) -> Path:
    """Write ``rows`` to ``path`` as JSONL: dicts are dumped, str and bytes are written as is.

    A str or bytes row is one raw line (a newline is added when missing), so a test can mix
    good rows with broken ones.
    """
    chunks = []
    for row in rows:
        if isinstance(row, dict):
            chunks.append(json.dumps(row).encode() + b"\n")
        else:
            raw = row.encode() if isinstance(row, str) else row
            chunks.append(raw if raw.endswith(b"\n") else raw + b"\n")
    path.write_bytes(b"".join(chunks))
    return path


GSM8K_ROW = {"question": "Tom has 3 apples and buys 4 more. How many apples does he have?",
             "answer": "Tom has 3 + 4 = <<3+4=7>>7 apples.\n#### 7"}

# Bad inputs shared by the loader and the CLI tests.
# name -> (file content: list of rows for write_rows or raw bytes, bad line or None, field or None)
BAD_INPUTS = {
    "broken-json": ([GSM8K_ROW, '{"question": "x", "answer": '], 2, None),
    "missing-field": ([GSM8K_ROW, {"question": "Where is the answer?"}], 2, "answer"),
    "non-numeric-answer": ([GSM8K_ROW, {"question": "x", "answer": "1 + 1 = 2\n#### abc"}],
                           2, "answer"),
    "no-final-line": ([GSM8K_ROW, {"question": "x", "answer": "1 + 1 = 2"}], 2, "answer"),
    "question-not-text": ([{"question": 5, "answer": "#### 5"}], 1, "question"),
    "empty-file": (b"", None, None),
    "blank-lines-only": (b"\n  \n\n", None, None),
    "binary-junk": (bytes(range(256)), 1, None),
    "json-array-line": ([GSM8K_ROW, "[1, 2, 3]"], 2, None),
    "unknown-fields": ([{"foo": 1, "bar": "baz"}], 1, None),
}


def write_bad_input(path: Path, name: str) -> tuple[Path, int | None, str | None]:
    """Write the bad input ``name`` of BAD_INPUTS to ``path``; returns (path, line, field)."""
    content, line, field = BAD_INPUTS[name]
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        write_rows(path, content)
    return path, line, field
