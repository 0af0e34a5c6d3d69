"""docs/tutorial.md, run as written: templates -> a tiny model -> mathgen train -> report."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the tutorial trains a model (pip install torch)")
pytest.importorskip("transformers", reason="the tutorial trains a model")
pytest.importorskip("accelerate", reason="the transformers Trainer needs accelerate")

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"


def steps(text: str) -> list[tuple[str, str]]:
    """The tutorial's commands in order: ("python", source) or ("bash", one command)."""
    out = []
    for kind, body in re.findall(r"```(bash|python)\n(.*?)```", text, re.DOTALL):
        if kind == "python":
            out.append((kind, body))
            continue
        for command in body.replace("\\\n", " ").splitlines():
            if command.strip() and not command.startswith("pip "):  # installed already
                out.append((kind, command))
    return out


@pytest.mark.slow
def test_tutorial_runs_and_accuracy_falls_with_number_size(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = []
    for kind, body in steps(TUTORIAL.read_text()):
        if kind == "python":  # the tutorial saves it as tiny.py and runs it
            (tmp_path / "tiny.py").write_text(body)
            body = f"{sys.executable} tiny.py"
        result = subprocess.run(body, shell=True, cwd=tmp_path, env=env, text=True,
                                capture_output=True)
        assert result.returncode == 0, f"{body}\n{result.stdout}\n{result.stderr}"
        done.append(body.split()[:2])
    assert ["mathgen", "train"] in done and ["mathgen", "robustness-report"] in done

    log = [json.loads(ln) for ln in (tmp_path / "tiny-sft" / "log.jsonl").open()]
    losses = [ln["loss"] for ln in log if "loss" in ln]
    assert losses[-1] < losses[0] / 10
    sets = json.loads((tmp_path / "report" / "metrics.json").read_text())["sets"]
    small, large = sets["small"]["accuracy"], sets["large"]["accuracy"]
    # what the tutorial says: nearly all of the small-number problems, none of the large
    assert small >= 0.8 and large <= 0.05, (small, large)
