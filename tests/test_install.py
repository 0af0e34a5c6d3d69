"""The install lines of the README and docs: the distribution name is mathgen's own on the
package index, and the README's commands work in a fresh virtual environment
(``venv --system-site-packages``, so heavy packages are not downloaded again)."""

from __future__ import annotations

import configparser
import json
import re

import pytest
from venvs import (DISTRIBUTION, ROOT, assert_mathgen_from, checkout_copy, fresh_venv,
                   from_checkout, require_index, run)

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _commands(path) -> list[str]:
    """The shell commands of a markdown file's bash blocks, continuation lines joined."""
    out = []
    for body in re.findall(r"```bash\n(.*?)```", path.read_text(), re.DOTALL):
        out += [c.strip() for c in body.replace("\\\n", " ").splitlines() if c.strip()]
    return out


def test_the_distribution_name_is_set_up_and_not_the_unrelated_mathgen():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["metadata"]["name"] == DISTRIBUTION
    assert "mathgen = mathgen.cli:main" in cfg["options.entry_points"]["console_scripts"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_pip_line_installs_the_unrelated_mathgen_from_the_index(doc):
    # 'mathgen' on the index is another project: a line naming it would install that
    for command in _commands(doc):
        for part in command.split("&&"):
            words = part.split()
            if words[:2] != ["pip", "install"]:
                continue
            names = [w.strip("'\"") for w in words[2:] if not w.startswith("-")
                     and not w.startswith("http")]
            assert not any(re.fullmatch(r"mathgen(\[[\w,-]+\])?", n) for n in names), command


def test_the_readme_names_the_index_install_line():
    lines = [c for c in _commands(ROOT / "README.md") if c.startswith("pip install")]
    assert any(DISTRIBUTION in c for c in lines), lines


@pytest.mark.slow
def test_readme_first_command_in_a_fresh_venv(tmp_path):
    """`pip install -e . && mathgen perturb -o variants.jsonl -n 3`, run as written in a copy
    of the checkout."""
    require_index()
    first = _commands(ROOT / "README.md")[0]
    assert first.startswith("pip install -e . && mathgen perturb"), first
    checkout = checkout_copy(tmp_path / "checkout")
    venv = tmp_path / "venv"
    env = fresh_venv(venv)
    run(first, checkout, env)
    assert_mathgen_from(env, checkout, venv, checkout)
    rows = [json.loads(line) for line in (checkout / "variants.jsonl").open()]
    assert rows and all(r["final_answer"] for r in rows)


@pytest.mark.slow
def test_readme_index_line_installs_the_checkout_with_its_extra(tmp_path):
    """The README's package-index line, with the checkout in place of the index: the
    `mathgen` command and the `[report]` extra (what `--backend predictions` needs) work."""
    require_index()
    line = next(c for c in _commands(ROOT / "README.md") if DISTRIBUTION in c)
    checkout = checkout_copy(tmp_path / "checkout")
    venv = tmp_path / "venv"
    env = fresh_venv(venv)
    work = tmp_path / "work"
    work.mkdir()
    run(from_checkout(line.split("#")[0], checkout), work, env)
    assert_mathgen_from(env, work, venv)
    run("mathgen perturb --tag steps:1 -n 2 -o v.jsonl", work, env)
    ids = [json.loads(line)["id"] for line in (work / "v.jsonl").open()]
    (work / "p.jsonl").write_text("".join(json.dumps({"id": i, "output": "The answer is 0."})
                                          + "\n" for i in ids))
    run("mathgen robustness-report --set v=v.jsonl --predictions p.jsonl --out rep", work, env)
    assert json.loads((work / "rep" / "metrics.json").read_text())["sets"]["v"]["n"] == len(ids)
