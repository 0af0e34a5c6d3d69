"""A worksheet, or its answer key, as PDF bytes, typeset with ReportLab (no browser needed).

The text is set in the PDF's built-in Helvetica, which every viewer has, so no font file is
shipped or looked for. Its encoding (WinAnsi) holds every character of the shipped templates,
GSM8K and GSM-Symbolic but a few (such as '−', '√', a zero-width space); those are written as
their nearest plain characters ('-', 'sqrt'), see ``drawable``. The bytes depend only on the
sheet: ReportLab's invariant mode fixes the creation date and the document id.
"""

from __future__ import annotations

import io
import unicodedata
from xml.sax.saxutils import escape

from .items import Item, Sheet

_NEAREST = {"\u2212": "-", "\u221a": "sqrt ", "\u2028": " ", "\u2029": " ", "\u200b": "",
            "\u2009": " ", "\u202f": " ", "\u2260": "!=", "\u2264": "<=", "\u2265": ">=",
            "\u2248": "~", "\u00a0": " "}
_CM = 28.3465  # points in a centimetre


def drawable(text: str) -> str:
    """``text`` with every character Helvetica's encoding lacks written plainly ('−' as '-',
    an accented letter outside the encoding without its accent, anything else as '?')."""
    out = []
    for ch in text:
        if ch in _NEAREST:
            out.append(_NEAREST[ch])
            continue
        try:
            ch.encode("cp1252")
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(plain or "?")
            continue
        out.append(ch if ch.isprintable() or ch in "\n\t" else " ")
    return "".join(out)


def _markup(text: str) -> str:
    """Text as a ReportLab paragraph reads it (a small XML dialect)."""
    return escape(drawable(text))


def worksheet(sheet: Sheet) -> bytes:
    """The problems, numbered, each with room to work and a line for the answer."""
    from reportlab.platypus import KeepTogether, Paragraph, Spacer

    styles = _styles()
    story = _heading(sheet.title, styles)
    story.append(Paragraph("Name: " + "_" * 34 + "&nbsp;" * 8 + "Date: " + "_" * 16,
                           styles["line"]))
    story.append(Paragraph("Show your work in the space under each problem, and write the "
                           "answer on its line.", styles["small"]))
    story.append(Spacer(1, 10))
    work = _work_area_class()
    width, height = _frame(sheet)
    for item in sheet.items:
        question = Paragraph(_markup(item.question), styles["problem"],
                             bulletText=f"{item.number}.")
        area = work(sheet.room * _CM, styles["problem"].leftIndent)
        if item.number > 1:
            story.append(Spacer(1, 12))
        if question.wrap(width, height)[1] + area.height + 8 < height:
            story.append(KeepTogether([question, area]))  # problem and its room on one page
        else:  # longer than a page: it starts here and goes on over the break
            story += [question, area]
    return _build(sheet, story, f"{sheet.title}")


def answer_key(sheet: Sheet) -> bytes:
    """Each problem's final answer, its question and source in small print (a template's id,
    or FILE:LINE), and its worked solution."""
    from reportlab.platypus import KeepTogether, Paragraph, Spacer

    styles = _styles()
    story = _heading(f"{sheet.title}: answer key", styles)
    story.append(Spacer(1, 6))
    width, height = _frame(sheet)
    for item in sheet.items:
        entry = _key_entry(item, styles, Paragraph)
        if item.number > 1:
            story.append(Spacer(1, 10))
        if sum(part.wrap(width, height)[1] for part in entry) + 30 < height:
            story.append(KeepTogether(entry))
        else:
            story += entry
    return _build(sheet, story, f"{sheet.title}: answer key")


def _key_entry(item: Item, styles, Paragraph) -> list:
    out = [Paragraph(f"<b>Answer: {_markup(item.answer)}</b>", styles["problem"],
                     bulletText=f"{item.number}."),
           Paragraph(_markup(item.question) + f' <font color="#888888">({_markup(item.source)})'
                     "</font>", styles["question"])]
    out += [Paragraph(_markup(step), styles["step"]) for step in item.steps]
    return out


def _heading(title: str, styles) -> list:
    from reportlab.platypus import Paragraph

    return [Paragraph(_markup(title), styles["title"])]


def _styles() -> dict:
    from reportlab.lib.colors import HexColor
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("base", fontName="Helvetica", fontSize=12, leading=16)
    return {
        "title": ParagraphStyle("title", base, fontName="Helvetica-Bold", fontSize=18,
                                leading=22, spaceAfter=10),
        "line": ParagraphStyle("line", base, spaceAfter=6),
        "small": ParagraphStyle("small", base, fontSize=9.5, leading=12,
                                textColor=HexColor("#444444")),
        "problem": ParagraphStyle("problem", base, leftIndent=24, bulletIndent=0,
                                  bulletFontName="Helvetica-Bold", spaceAfter=4),
        "question": ParagraphStyle("question", base, leftIndent=24, fontSize=9.5, leading=12,
                                   textColor=HexColor("#555555"), spaceAfter=4),
        "step": ParagraphStyle("step", base, leftIndent=24, fontSize=11, leading=14.5),
    }


def _work_area_class():
    """A flowable of fixed height: a light frame to work in, with the answer line at its
    foot (defined here so that ReportLab is imported only when a PDF is made)."""
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Flowable

    class WorkArea(Flowable):
        def __init__(self, height: float, indent: float):
            super().__init__()
            self.height, self.indent = height, indent

        def wrap(self, available_width, available_height):
            self.width = available_width
            return available_width, self.height

        def draw(self):
            c = self.canv
            c.setStrokeColor(HexColor("#bbbbbb"))
            c.setLineWidth(0.6)
            c.roundRect(self.indent, 0, self.width - self.indent, self.height, 4)
            c.setFillColor(HexColor("#333333"))
            c.setFont("Helvetica", 11)
            right = self.width - 10
            c.drawRightString(right - 130, 10, "Answer:")
            c.setStrokeColor(HexColor("#666666"))
            c.line(right - 125, 9, right, 9)

    return WorkArea


_MARGINS = {"left": 2 * _CM, "right": 2 * _CM, "top": 2 * _CM, "bottom": 2.2 * _CM}


def _size(sheet: Sheet) -> tuple[float, float]:
    from reportlab.lib.pagesizes import A4, LETTER

    return LETTER if sheet.paper == "letter" else A4


def _frame(sheet: Sheet) -> tuple[float, float]:
    """The width and height text flows in (less the padding ReportLab's frame keeps)."""
    width, height = _size(sheet)
    return (width - _MARGINS["left"] - _MARGINS["right"] - 12,
            height - _MARGINS["top"] - _MARGINS["bottom"] - 12)


def _build(sheet: Sheet, story: list, label: str) -> bytes:
    from reportlab.platypus import SimpleDocTemplate

    size = _size(sheet)
    buffer = io.BytesIO()
    footer = drawable(f"{label}  \u00b7  mathgen worksheet, seed {sheet.seed}")

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillGray(0.35)
        canvas.drawString(doc.leftMargin, 1.2 * _CM, footer)
        canvas.drawRightString(size[0] - doc.rightMargin, 1.2 * _CM, f"page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(buffer, pagesize=size, invariant=1, title=drawable(label),
                            author="mathgen", creator="mathgen worksheet",
                            subject=f"seed {sheet.seed}", leftMargin=_MARGINS["left"],
                            rightMargin=_MARGINS["right"], topMargin=_MARGINS["top"],
                            bottomMargin=_MARGINS["bottom"])
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
