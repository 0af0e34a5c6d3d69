"""The report's pages: plots (matplotlib), ``report.md`` and a self-contained ``report.html``.

Everything here reads the metrics dict of ``robustness.metrics``; nothing is computed twice.
The HTML page embeds its plots as data URIs and its style inline: it opens from disk, with no
server and no network, and runs no script.
"""

from __future__ import annotations

import base64
from pathlib import Path

from mathgen.robustness.metrics import SIZE_BINS

_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f"]


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def _failed(a: dict) -> str:
    return f"{a['failed']} ({_pct(a['failed_share'])}%)" if a["failed"] else "0"


FAILED_LISTED = 200  # failed items listed in the pages; metrics.json holds all of them


def _ci(ci) -> str:
    return f"[{_pct(ci[0])}, {_pct(ci[1])}]"


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def _height(bars: int) -> float:
    return max(2.2, 0.8 + 0.45 * bars)  # inches: one bar still gets a readable axis


def _err(values, intervals):
    """matplotlib's asymmetric error bars (points below, points above), never negative."""
    return [[max(0.0, v - 100 * lo) for v, (lo, _) in zip(values, intervals)],
            [max(0.0, 100 * hi - v) for v, (_, hi) in zip(values, intervals)]]


def write_plots(metrics: dict, folder: Path) -> list[Path]:
    """The report's figures as PNG files in ``folder``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    names = list(metrics["sets"])
    colour = {n: _COLOURS[i % len(_COLOURS)] for i, n in enumerate(names)}
    paths = []

    def save(fig, name):
        fig.tight_layout()
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=110, metadata={"Software": None})
        plt.close(fig)
        paths.append(path)

    fig, ax = plt.subplots(figsize=(7, _height(len(names))))
    accs = [100 * (metrics["sets"][n]["accuracy"] or 0) for n in names]
    # a set with no item answered gets no bar and no interval, and says so
    cis = [metrics["sets"][n]["ci95"] if metrics["sets"][n]["n"] else (0, 0) for n in names]
    ax.barh(range(len(names)), accs, capsize=3, color=[colour[n] for n in names],
            xerr=_err(accs, cis))
    ax.set_yticks(range(len(names)), [n if metrics["sets"][n]["n"] else f"{n} (none answered)"
                                      for n in names])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("accuracy (%), 95% interval")
    ax.set_title("Accuracy per set", loc="left", fontsize="medium")
    save(fig, "accuracy")

    fig, ax = plt.subplots(figsize=(7, 3.8))
    for n in names:
        bins = metrics["by_size"][n]
        xs = [i for i, b in enumerate(SIZE_BINS)
              if b in bins and bins[b]["accuracy"] is not None]
        ys = [100 * bins[SIZE_BINS[i]]["accuracy"] for i in xs]
        ax.errorbar(xs, ys, yerr=_err(ys, [bins[SIZE_BINS[i]]["ci95"] for i in xs]),
                    marker="o", capsize=3, label=n, color=colour[n])
    ax.set_xticks(range(len(SIZE_BINS)), SIZE_BINS)
    ax.set_xlabel("digits of the largest number in the question")
    ax.set_title("Accuracy by the size of the numbers", loc="left", fontsize="medium")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize="small")
    save(fig, "size")

    paired = [n for n, p in metrics["paired"].items() if p["drop"] is not None]
    if paired:
        fig, ax = plt.subplots(figsize=(7, _height(len(paired))))
        drops = [100 * metrics["paired"][n]["drop"] for n in paired]
        ax.errorbar(drops, range(len(paired)),
                    xerr=_err(drops, [metrics["paired"][n]["drop_ci95"] for n in paired]),
                    fmt="o", capsize=3, color="#333333")
        ax.axvline(0, color="#999999", linewidth=1)
        ax.set_yticks(range(len(paired)), paired)
        ax.invert_yaxis()
        ax.set_xlabel(f"accuracy drop vs {metrics['baseline']} (points), 95% bootstrap interval")
        ax.set_title("Paired accuracy drop", loc="left", fontsize="medium")
        save(fig, "paired")

    if metrics["spread"]:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        spread = list(metrics["spread"])
        width = 0.8 / len(spread)
        for i, n in enumerate(spread):
            hist = metrics["spread"][n]["histogram"]
            total = sum(hist) or 1
            ax.bar([j + i * width for j in range(5)], [100 * h / total for h in hist], width,
                   label=n, color=colour[n])
        ax.set_xticks([j + 0.4 - width / 2 for j in range(5)],
                      ["0-20", "20-40", "40-60", "60-80", "80-100"])
        ax.set_xlabel("accuracy over a source's instances (%)")
        ax.set_title("Spread across the instances of a source", loc="left", fontsize="medium")
        ax.set_ylabel("sources (%)")
        ax.legend(fontsize="small")
        save(fig, "spread")

    for n, classes in metrics["gsm_hard"].items():
        fig, ax = plt.subplots(figsize=(7, _height(len(classes))))
        labels = list(classes)
        accs = [100 * (classes[c]["accuracy"] or 0) for c in labels]
        ax.barh(range(len(labels)), accs,
                xerr=_err(accs, [classes[c]["ci95"] if classes[c]["n"] else (0, 0)
                                 for c in labels]), capsize=3,
                color=["#2ca02c" if c == "sensible" else "#d62728" for c in labels])
        ax.set_yticks(range(len(labels)), [f"{c} (n={classes[c]['n']})" for c in labels])
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel(f"accuracy on {n} (%), by audit class")
        ax.set_title("GSM-HARD: sensible vs broken items", loc="left", fontsize="medium")
        save(fig, f"gsm_hard_{_slug(n)}")
    return paths


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _tables(metrics: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table, shared by the Markdown and the HTML page."""
    out = []
    rows = [[n, str(s["n"]), str(s["correct"]), _pct(s["accuracy"]), _ci(s["ci95"]),
             str(s["no_answer"]), _failed(s)] for n, s in metrics["sets"].items()]
    out.append(("Accuracy", ["set", "items graded", "correct", "accuracy %", "95% interval",
                             "no answer", "failed (left out)"], rows))
    sampled = {n: s["samples"] for n, s in metrics["sets"].items() if s.get("samples")}
    if sampled:
        k = next(iter(sampled.values()))["k"]
        rows = [[n, str(v["items"]), _pct(v["maj_at_k"]), _pct(v["pass_at_1"]),
                 _pct(v["pass_at_k"]), str(v["short_of_k"]), str(v["failed_samples"])]
                for n, v in sampled.items()]
        out.append((f"{k} samples per item (accuracy above and pairs are maj@{k})",
                    ["set", "items", f"maj@{k} %", "pass@1 %", f"pass@{k} %",
                     f"items short of {k} answered samples (out of pass@{k})",
                     "failed samples (left out)"], rows))
    if metrics["paired"]:
        rows = [[n, p["baseline"], str(p["n_sources"]), str(p["n_pairs"]),
                 _pct(p["baseline_accuracy"]), _pct(p["accuracy"]), _pct(p["drop"]),
                 _ci(p["drop_ci95"]), _p(p["mcnemar_p"]),
                 f"{p['broken']} ({p['broken_items']})", f"{p['fixed']} ({p['fixed_items']})"]
                if p["drop"] is not None else
                [n, p["baseline"], "0", "0"] + ["no shared source"] + [""] * 6
                for n, p in metrics["paired"].items()]
        out.append(("Paired comparison with the baseline",
                    ["set", "baseline", "sources", "pairs", "baseline %", "set %", "drop",
                     "drop 95%", "McNemar p", "broken sources (items)",
                     "fixed sources (items)"], rows))
    rows = [[n] + [_size_cell(b[k]) if k in b else "" for k in SIZE_BINS]
            for n, b in metrics["by_size"].items()]
    out.append(("Accuracy by number size (digits of the largest number; items in brackets)",
                ["set"] + list(SIZE_BINS), rows))
    c = metrics.get("consistency")
    if c:
        out.append(("Consistency across sets", ["sources in the baseline and another set",
                                                "solved in every set %", "solved in none %"],
                    [[str(c["sources"]), _pct(c["solved_everywhere"]),
                      _pct(c["solved_nowhere"])]]))
    if metrics["spread"]:
        rows = [[n, str(s["sources"]), str(s["items"]), _pct(s["consistency"]),
                 _pct(s["all_wrong"]), _pct(s["mixed"]), f"{100 * s['mean_within_sd']:.1f}"]
                for n, s in metrics["spread"].items()]
        out.append(("Consistency across the instances of a source",
                    ["set", "sources", "items", "all solved %", "none solved %", "mixed %",
                     "mean within-source sd"], rows))
    for n, classes in metrics["gsm_hard"].items():
        rows = [[c, str(a["n"]), _pct(a["accuracy"]), _ci(a["ci95"])] for c, a in classes.items()]
        out.append((f"GSM-HARD audit classes: {n}", ["class", "items", "accuracy %",
                                                     "95% interval"], rows))
    failed = metrics.get("failed") or []
    if failed:
        rows = [[f["set"], f["id"], f["reason"]] for f in failed[:FAILED_LISTED]]
        if len(failed) > FAILED_LISTED:
            rows.append(["", f"and {len(failed) - FAILED_LISTED} more", "see metrics.json"])
        out.append(("Items that failed (left out of every accuracy)", ["set", "item", "reason"],
                    rows))
    return out


def _size_cell(a: dict) -> str:
    cell = f"{_pct(a['accuracy'])} ({a['n']})"
    return cell + f", {a['failed']} failed" if a["failed"] else cell


def intro(metrics: dict) -> str:
    """What the numbers mean, and, when any generation failed, how many and what was done."""
    failed = metrics.get("failed") or []
    if not failed:
        return _INTRO
    total = sum(s["n"] + s["failed"] for s in metrics["sets"].values())
    return (f"{_INTRO} {len(failed)} of {total} items ({_pct(len(failed) / total)}%) could not "
            "be generated (the backend failed them, after any retries): they are left out of "
            "every accuracy, pair and interval below, counted in the 'failed' columns and "
            "listed at the end; running the report again asks for them only.")


_INTRO = ("Accuracy has Wilson 95% intervals. An item's source is the problem it was made "
          "from (a variant's original question). A paired comparison uses the sources a set "
          "shares with the baseline, each weighted once; its interval is a bootstrap over "
          "sources, and the exact McNemar test counts each source once: 'broken' when at "
          "least half of the baseline's items of the source are right and most of the set's "
          "wrong, 'fixed' the other way round. With few broken and fixed sources its p is "
          "large however big the drop (one source: p = 1). Flips pair a variant with its own "
          "original. An item whose generation failed is left out of every figure; a missing "
          "prediction counts as wrong but pairs with nothing.")


def markdown(metrics: dict, plots: list[Path], title: str) -> str:
    lines = [f"# {title}", "", intro(metrics), ""]
    for name, header, rows in _tables(metrics):
        lines += [f"## {name}", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        lines.append("")
    lines += ["## Plots", ""] + [f"![{p.stem}](plots/{p.name})" for p in plots] + [""]
    for name, flips in metrics["flips"].items():
        if flips:
            lines += [f"## Flips: {name}", ""]
            for f in flips:
                o, v = f["original"], f["variant"]
                lines += [f"**{f['kind']}** ({f['source_id']})", "",
                          f"- original: {_one_line(o['question'])} (gold {o['gold']}, "
                          f"answered {o['extracted']})",
                          f"- variant: {_one_line(v['question'])} (gold {v['gold']}, "
                          f"answered {v['extracted']})", ""]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em}
th{background:#f3f3f3}td{text-align:right}td:first-child{text-align:left}
img{max-width:100%;display:block;margin:.5em 0 1.5em}
details{margin:.3em 0}pre{white-space:pre-wrap;background:#f7f7f7;padding:.5em;font-size:85%}
.broken{color:#b00}.fixed{color:#070}
</style></head><body>
<h1>{{ title }}</h1><p>{{ intro }}</p>
{% for name, header, rows in tables %}<h2>{{ name }}</h2><table><tr>
{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}
</table>{% endfor %}
<h2>Plots</h2>{% for name, uri in images %}<img alt="{{ name }}" src="{{ uri }}">{% endfor %}
{% for name, flips in flip_sets %}<h2>Flips: {{ name }}</h2>{% for f in flips %}
<details><summary><span class="{{ f.kind }}">{{ f.kind }}</span> {{ f.source_id }}:
gold {{ f.original.gold }} / {{ f.variant.gold }}, answered {{ f.original.extracted }} /
{{ f.variant.extracted }}</summary>
<p><b>Original</b>: {{ f.original.question }}</p><pre>{{ f.original.output }}</pre>
<p><b>Variant</b>: {{ f.variant.question }}</p><pre>{{ f.variant.output }}</pre></details>
{% endfor %}{% endfor %}
</body></html>
"""


def html(metrics: dict, plots: list[Path], title: str) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    images = [(p.stem, "data:image/png;base64," + base64.b64encode(p.read_bytes()).decode())
              for p in plots]
    flip_sets = [(n, f) for n, f in metrics["flips"].items() if f]
    return env.from_string(_PAGE).render(title=title, intro=intro(metrics),
                                         tables=_tables(metrics),
                                         images=images, flip_sets=flip_sets)
