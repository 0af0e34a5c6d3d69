"""A worksheet, or its answer key, as one printable HTML page (UTF-8, no scripts, no files
beside it). The page is well-formed XML as well as HTML5, so any parser reads it the same;
every text is escaped, so a problem's '<' or '&' stays text. Printing keeps each problem on
one page where it fits (``break-inside: avoid``).
"""

from __future__ import annotations

import re
from html import escape as _escape

from .items import Sheet

# characters no HTML or XML page may hold as text: C0 and C1 controls (but tab and newline),
# and the noncharacters U+FFFE and U+FFFF; each is written as a space
_UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")


def escape(text: str) -> str:
    """Text as the page shows it: '<' and '&' escaped, characters no page may hold as spaces."""
    return _escape(_UNWRITABLE.sub(" ", text))

_STYLE = """
@page { size: %(paper)s; margin: 2cm; }
body { font-family: Helvetica, Arial, sans-serif; font-size: 12pt; line-height: 1.35;
       max-width: 17cm; margin: 1.5em auto; color: #111; }
h1 { font-size: 18pt; margin: 0 0 0.5em; }
.name { margin: 0 0 0.3em; }
.hint { font-size: 9.5pt; color: #444; margin: 0 0 1em; }
ol { padding-left: 2em; }
li { break-inside: avoid; page-break-inside: avoid; margin-bottom: 1em; }
li::marker { font-weight: bold; }
.work { height: %(room)scm; border: 0.6pt solid #bbb; border-radius: 4pt; position: relative;
        margin-top: 0.4em; }
.answer-line { position: absolute; right: 10pt; bottom: 6pt; }
.blank { display: inline-block; width: 4.4cm; border-bottom: 0.8pt solid #666; }
.question { font-size: 9.5pt; color: #555; margin: 0.2em 0; }
.source { color: #888; }
.steps p { margin: 0.1em 0; font-size: 11pt; }
li > p:first-child { margin: 0 0 0.2em; }
footer { font-size: 8pt; color: #595959; margin-top: 2em; }
"""


def worksheet(sheet: Sheet) -> str:
    """The problems, numbered, each with room to work and a line for the answer."""
    body = ['<p class="name">Name: <span class="blank"></span> &#160; Date: '
            '<span class="blank"></span></p>',
            '<p class="hint">Show your work in the space under each problem, and write the '
            'answer on its line.</p>', "<ol>"]
    for item in sheet.items:
        body.append(f'<li value="{item.number}"><p>{escape(item.question)}</p>'
                    '<div class="work"><span class="answer-line">Answer: '
                    '<span class="blank"></span></span></div></li>')
    body.append("</ol>")
    return _page(sheet, sheet.title, body)


def answer_key(sheet: Sheet) -> str:
    """Each problem's final answer, its question and source in small print, and its worked
    solution."""
    body = ["<ol>"]
    for item in sheet.items:
        steps = "".join(f"<p>{escape(step)}</p>" for step in item.steps)
        body.append(f'<li value="{item.number}"><p><b>Answer: {escape(item.answer)}</b></p>'
                    f'<p class="question">{escape(item.question)} '
                    f'<span class="source">({escape(item.source)})</span></p>'
                    f'<div class="steps">{steps}</div></li>')
    body.append("</ol>")
    return _page(sheet, f"{sheet.title}: answer key", body)


def _page(sheet: Sheet, title: str, body: list[str]) -> str:
    style = _STYLE % {"paper": "letter" if sheet.paper == "letter" else "A4",
                      "room": f"{sheet.room:g}"}
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"/>',
        f"<title>{escape(title)}</title>",
        f"<style>{style}</style></head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
        *body,
        f"<footer>{escape(title)} &#183; mathgen worksheet, seed {sheet.seed}</footer>",
        "</body>",
        "</html>",
        "",
    ])
