"""The session report as a PDF (reportlab): scorecard, answers with reasons and a stronger
example, key moments, coaches' notes. Bounded: at most MAX_ANSWERS answers, MAX_MOMENTS
moments and MAX_NOTES notes, long texts cut, so a huge session still renders in about the
same time and size.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from db.coach_notes import NoteRow
from reports.delivery import FACIAL_CUES_NOTE
from reports.model import AnswerReport, Finding, Report
from reports.scorecard import rubric_label
from scoring.calibration import BAND_LABELS, band_of

MAX_ANSWERS = 40
MAX_MOMENTS = 40
MAX_NOTES = 100
MAX_TEXT = 1200
FONT, FONT_BOLD = "GreenroomSans", "GreenroomSans-Bold"
_FONT_DIR = Path(reportlab.__file__).parent / "fonts"
_INK = colors.HexColor("#1f2933")
_MUTED = colors.HexColor("#52606d")
_ACCENT = colors.HexColor("#2f7d4f")
_GRID = colors.HexColor("#cbd2d9")
_SHADE = colors.HexColor("#f0f4f8")


def _fonts() -> dict[int, int]:
    """Registers the bundled Vera fonts once (reportlab keeps a process-wide registry)."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(_FONT_DIR / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(_FONT_DIR / "VeraBd.ttf")))
    return pdfmetrics.getFont(FONT).face.charToGlyph


_REPLACEMENTS = {"→": "->", "←": "<-", "≥": ">=", "≤": "<=", "×": "x", "−": "-"}


def _text(value: object, limit: int = MAX_TEXT) -> str:
    """Escaped for reportlab's markup, cut to limit, glyphs the font lacks replaced."""
    text = str(value if value is not None else "")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    glyphs = _fonts()
    text = "".join(
        _REPLACEMENTS.get(ch, ch) if ord(ch) in glyphs or ch in "\n\t" else _REPLACEMENTS.get(ch, "?")
        for ch in text
    )
    return escape(text)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, textColor=_INK, alignment=TA_LEFT)
    bold = ParagraphStyle("bold", parent=base, fontName=FONT_BOLD)
    return {
        "title": ParagraphStyle("title", parent=bold, fontSize=20, leading=24, spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", parent=base, textColor=_MUTED, spaceAfter=10),
        "h2": ParagraphStyle("h2", parent=bold, fontSize=13, leading=17, spaceBefore=10, spaceAfter=4),
        "h3": ParagraphStyle("h3", parent=bold, fontSize=10.5, leading=14, spaceBefore=8, spaceAfter=2),
        "big": ParagraphStyle("big", parent=bold, fontSize=28, leading=34, textColor=_ACCENT, spaceAfter=2),
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=_MUTED),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
    }  # fmt: skip


def _table(rows: list[list[object]], widths: list[float], styles: dict[str, ParagraphStyle]) -> Table:
    cells = [
        [c if not isinstance(c, str) else Paragraph(c, styles["cell"]) for c in row] for row in rows
    ]
    table = Table(cells, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, _GRID),
                ("LINEBELOW", (0, 1), (-1, -1), 0.3, _GRID),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _band(low: int | None, high: int | None) -> str:
    return "–" if low is None or high is None else f"{low}–{high}"


def _answer_band(a: AnswerReport) -> str:
    """'strong (likely 78–90)': the answer score's band on the calibrated scale, and its range."""
    label = BAND_LABELS[band_of(a.rubric.overall)]
    if a.rubric.band_low is None or a.rubric.band_high is None:
        return label
    return f"{label} (likely {a.rubric.band_low}–{a.rubric.band_high})"


def _score(score: int | None) -> str:
    return "–" if score is None else str(score)


def _seq(seq: int | None) -> str:
    return "–" if seq is None else f"Q{seq}"


def _mmss(t_ms: int) -> str:
    s = max(0, t_ms) // 1000
    return f"{s // 60}:{s % 60:02d}"


def _findings(title: str, findings: tuple[Finding, ...], st: dict[str, ParagraphStyle]) -> list[object]:
    out: list[object] = [Paragraph(title, st["h3"])]
    if not findings:
        out.append(Paragraph("Nothing stood out yet.", st["small"]))
    for f in findings:
        out.append(Paragraph(f"<b>{_text(f.title)}</b> ({f.score}) — {_text(f.detail)}", st["body"]))
        for e in f.evidence:
            out.append(Paragraph(f"• {_text(e.detail, 300)}", st["small"]))
    return out


def _answer(a: AnswerReport, st: dict[str, ParagraphStyle], width: float) -> list[object]:
    out: list[object] = [
        Paragraph(f"Q{a.seq}. {_text(a.question, 600)}", st["h3"]),
    ]
    meta = [a.category.replace("_", " "), f"{a.duration_s:.0f} s", f"{a.words} words"]
    if not a.final:
        meta.append("still in progress")
    if a.rubric is not None:
        meta.append(f"scored by {a.rubric.evaluator}")
        if a.rubric.fallback_reason:
            meta.append(f"fallback: {a.rubric.fallback_reason}")
    out.append(Paragraph(_text(" · ".join(meta)), st["small"]))
    if a.rubric is None:
        out.append(Paragraph(_text(f"No rubric score: {a.rubric_missing_reason or 'not scored'}."), st["body"]))
    else:
        rows: list[list[object]] = [["Rubric", "Score", "Reason"]]
        rows.append(["<b>Overall</b>", f"<b>{a.rubric.overall}</b>", _text(_answer_band(a))])
        rows += [[_text(rubric_label(d.dimension)), str(d.score), _text(d.reason, 400)] for d in a.rubric.dimensions]
        out.append(_table(rows, [0.22 * width, 0.1 * width, 0.68 * width], st))
        for label, items in (("Strengths", a.rubric.strengths), ("To improve", a.rubric.improvements)):
            if items:
                out.append(Paragraph(f"<b>{label}</b>", st["body"]))
                out += [Paragraph(f"• {_text(item, 300)}", st["small"]) for item in items[:4]]
    scored = [d for d in a.delivery if d.score is not None]
    if scored:
        rows = [["Delivery", "Score", "Band", "Measured"]]
        rows += [[_text(d.label), str(d.score), _band(d.band_low, d.band_high), _text(d.summary, 200)] for d in scored]
        out.append(Spacer(1, 3))
        out.append(_table(rows, [0.22 * width, 0.1 * width, 0.12 * width, 0.56 * width], st))
    if a.example_answer:
        out.append(Paragraph("<b>A stronger answer could sound like:</b>", st["body"]))
        out.append(Paragraph(_text(a.example_answer), st["small"]))
    return out


def render_pdf(report: Report, notes: Sequence[NoteRow] = ()) -> bytes:
    """The report as PDF bytes, with the coaches' notes given (CPU-bound: run it off the event loop)."""
    _fonts()
    st = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title="Greenroom interview report",
        author="Greenroom",
        invariant=1,
    )
    width = doc.width
    sc = report.scorecard
    when = report.started_at or report.generated_at
    story: list[object] = [
        Paragraph("Greenroom interview report", st["title"]),
        Paragraph(
            _text(
                f"{report.role_track.replace('_', ' ')} · {report.round_type.replace('_', ' ')} round · "
                f"{report.difficulty} · {_date(when)} · {report.duration_s / 60:.0f} min"
                + (" · PARTIAL (session in progress)" if report.partial else "")
            ),
            st["subtitle"],
        ),
        Paragraph("Scorecard", st["h2"]),
        Paragraph(
            f"Overall score: {sc.overall if sc.overall is not None else '–'} / 100", st["big"]
        ),
        Paragraph(_text(f"Likely range {_band(sc.band_low, sc.band_high)}"), st["small"]),
        Spacer(1, 6),
    ]
    rows: list[list[object]] = [["Dimension", "Score", "Range", "Weight", "How it is made"]]
    rows += [
        [d.label, _score(d.score), _band(d.band_low, d.band_high), f"{d.weight:g}", _text(d.definition)]
        for d in sc.dimensions
    ]
    story.append(_table(rows, [0.17 * width, 0.09 * width, 0.1 * width, 0.09 * width, 0.55 * width], st))
    story += _findings("Top strengths", sc.strengths, st)
    story += _findings("Top improvements", sc.improvements, st)
    if sc.drills:
        story.append(Paragraph("Drills for this week", st["h3"]))
        for p in sc.drills:
            story.append(
                Paragraph(f"<b>{_text(p.drill.title)}</b> ({p.drill.minutes} min) — {_text(p.reason)}", st["body"])
            )
            story.append(Paragraph(_text(" ".join(f"{i + 1}. {s}" for i, s in enumerate(p.drill.steps))), st["small"]))

    story.append(Paragraph("Delivery across the session", st["h2"]))
    rows = [["Measure", "Score", "Range", "Confidence", "Measured"]]
    rows += [
        [_text(d.label), _score(d.score), _band(d.band_low, d.band_high), d.confidence, _text(d.summary, 200)]
        for d in sc.delivery
    ]
    story.append(_table(rows, [0.2 * width, 0.08 * width, 0.1 * width, 0.12 * width, 0.5 * width], st))
    story.append(Paragraph(_text(FACIAL_CUES_NOTE), st["small"]))

    story.append(Paragraph("Answers", st["h2"]))
    shown = report.answers[:MAX_ANSWERS]
    for a in shown:
        parts = _answer(a, st, width)
        story.append(KeepTogether(parts[:3]))
        story += parts[3:]
    if len(report.answers) > len(shown):
        story.append(Paragraph(f"… and {len(report.answers) - len(shown)} more answers (see the app).", st["small"]))

    story.append(Paragraph("Key moments", st["h2"]))
    moments = report.key_moments[:MAX_MOMENTS]
    if moments:
        rows = [["Time", "Moment", "Where", "Detail"]]
        rows += [
            [_mmss(m.t_ms), _text(m.title), _seq(m.question_seq), _text(m.detail, 240)]
            for m in moments
        ]
        story.append(_table(rows, [0.1 * width, 0.24 * width, 0.08 * width, 0.58 * width], st))
    else:
        story.append(Paragraph("No key moments were found.", st["small"]))
    if len(report.key_moments) > len(moments):
        story.append(Paragraph(f"… and {len(report.key_moments) - len(moments)} more.", st["small"]))

    if notes:
        story.append(Paragraph("Coach notes", st["h2"]))
        shown_notes = notes[:MAX_NOTES]
        rows = [["Time", "Coach", "Note"]]
        rows += [[_mmss(n.t_ms), _text(n.author_name, 80), _text(n.body, 600)] for n in shown_notes]
        story.append(_table(rows, [0.1 * width, 0.2 * width, 0.7 * width], st))
        if len(notes) > len(shown_notes):
            story.append(Paragraph(f"… and {len(notes) - len(shown_notes)} more.", st["small"]))

    story.append(Spacer(1, 8))
    for note in report.notes:
        story.append(Paragraph(_text(note), st["small"]))
    doc.build(story)
    return buffer.getvalue()


def _date(when: datetime) -> str:
    return when.strftime("%d %b %Y")
