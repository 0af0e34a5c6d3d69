"""The report page in a real browser: headless Chromium (Debian's package) through Playwright.

CI installs Chromium (``.ci/run``); elsewhere the test skips unless ``/usr/bin/chromium`` (or
``$CHROMIUM``) exists. Set ``MATHGEN_SCREENSHOT=FILE`` to keep the screenshot and look at it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from test_report import _write_report

playwright = pytest.importorskip("playwright.sync_api",
                                 reason="pip install playwright to render the report page")

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# what a closed, headless machine needs (no background network, no sandbox as root)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_the_report_page_renders_with_visible_plots_and_no_console_errors(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, as .ci/run does)")
    result, out = _write_report(tmp_path)
    assert result.exit_code == 0, result.output
    shot = Path(os.environ.get("MATHGEN_SCREENSHOT") or tmp_path / "report.png")
    problems = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS,
                                    chromium_sandbox=False)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: problems.append(f"network: {r.url}")
                if not r.url.startswith(("file:", "data:")) else None)
        page.goto((out / "report.html").as_uri())
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.alt, e.complete, e.naturalWidth, e.naturalHeight,"
                   " e.getBoundingClientRect().width])")
        headings = page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert problems == []
    assert [i[0] for i in images] == ["accuracy", "size", "paired", "spread"]
    assert all(done and w > 200 and h > 100 and shown > 200 for _, done, w, h, shown in images)
    assert headings[:3] == ["Accuracy", "Paired comparison with the baseline",
                            "Accuracy by number size (digits of the largest number; items in "
                            "brackets)"]
    assert shot.stat().st_size > 20_000
