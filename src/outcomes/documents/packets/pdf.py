"""The packet as a PDF: US Letter, black and white, large type, vector charts (fpdf2).

fpdf2 is imported inside the functions (heavy libraries stay out of the core's import time).
Text is set as plain text (``markdown=False``): a partner name with ``**`` or ``[b]`` in it prints
as typed. A Unicode TTF (DejaVu Sans, shipped inside matplotlib's package data or the system's
fonts) is used when found, so names such as "Zoë Łukasiewicz" print; without it the PDF falls
back to Helvetica and replaces characters outside Latin-1 with "?".
"""

from __future__ import annotations

import importlib.util
import logging
import math
from pathlib import Path
from typing import Any

from outcomes.documents.packets.charts import Line, Rect, Text, shapes_of
from outcomes.documents.packets.content import Chart, Packet, StepChart, Table

PAGE_W, MARGIN = 612.0, 50.0
CONTENT_W = PAGE_W - 2 * MARGIN
FONT = "dejavu"

_SYSTEM_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")


def font_files() -> tuple[Path, Path] | None:
    """(regular, bold) DejaVu Sans TTF files, from matplotlib's package data or the system."""
    candidates: list[Path] = []
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidates.append(Path(location) / "mpl-data" / "fonts" / "ttf")
    candidates.extend(Path(d) for d in _SYSTEM_FONT_DIRS)
    for folder in candidates:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def new_document(title: str, footer: str) -> Any:
    """An FPDF document (Letter, points) with a Unicode font when one is available."""
    from fpdf import FPDF

    class _Doc(FPDF):
        unicode_font = False

        def footer(self) -> None:
            self.set_y(-36)
            self.set_font(self.family_name, "", 8)
            self.cell(0, 10, self.safe(f"{footer} · page {self.page_no()} of {{nb}}"),
                      align="C")

        @property
        def family_name(self) -> str:
            return FONT if self.unicode_font else "helvetica"

        def safe(self, text: str) -> str:
            if self.unicode_font:
                return text
            return text.encode("latin-1", "replace").decode("latin-1")

    # Missing glyphs (e.g. CJK in a name) print as blanks; fpdf2 logs each one, keep it quiet.
    logging.getLogger("fpdf").setLevel(logging.ERROR)
    pdf = _Doc(format="Letter", unit="pt")
    pdf.set_margins(MARGIN, 46, MARGIN)
    pdf.set_auto_page_break(True, margin=54)
    pdf.set_title(title)
    pdf.set_creator("outcomes")
    fonts = font_files()
    if fonts is not None:
        pdf.add_font(FONT, "", str(fonts[0]))
        pdf.add_font(FONT, "B", str(fonts[1]))
        pdf.unicode_font = True
    return pdf


def font(pdf: Any, size: float, bold: bool = False) -> None:
    pdf.set_font(pdf.family_name, "B" if bold else "", size)


def para(pdf: Any, text: str, size: float = 10.5, *, bold: bool = False, gap: float = 2,
         indent: float = 0, height: float | None = None) -> None:
    font(pdf, size, bold)
    pdf.set_x(MARGIN + indent)
    pdf.multi_cell(CONTENT_W - indent, height or size * 1.3, pdf.safe(text), markdown=False,
                   new_x="LMARGIN", new_y="NEXT")
    if gap:
        pdf.ln(gap)


def heading(pdf: Any, text: str, size: float = 12.5) -> None:
    if pdf.get_y() > pdf.h - 95:  # room for the heading, a table head and a row
        pdf.add_page()
    pdf.ln(4)
    para(pdf, text, size, bold=True, gap=3)


def table(pdf: Any, data: Table, widths: tuple[float, ...], size: float = 9.5) -> None:
    from fpdf.fonts import FontFace

    font(pdf, size)
    with pdf.table(
        col_widths=widths, width=CONTENT_W, line_height=size * 1.35, text_align="LEFT",
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
        markdown=False, padding=3,
    ) as t:
        for values in [data.header, *data.rows]:
            row = t.row()
            for value in values:
                row.cell(pdf.safe(value))
    pdf.ln(4)


def draw_chart(pdf: Any, chart: Chart | StepChart, x0: float, y0: float, width: float,
               height: float) -> None:
    for shape in shapes_of(chart, width, height):
        if isinstance(shape, Rect):
            pdf.set_draw_color(0)
            pdf.set_line_width(0.8)
            style = ("F" if shape.fill is not None else "") + ("D" if shape.stroke else "")
            if shape.fill is not None:
                pdf.set_fill_color(shape.fill)
            pdf.rect(x0 + shape.x, y0 + shape.y, shape.w, shape.h, style=style or "D")
        elif isinstance(shape, Line):
            pdf.set_draw_color(shape.grey)
            pdf.set_line_width(shape.width)
            if shape.dash:
                pdf.set_dash_pattern(dash=shape.dash, gap=shape.dash * 0.75)
            pdf.line(x0 + shape.x1, y0 + shape.y1, x0 + shape.x2, y0 + shape.y2)
            if shape.dash:
                pdf.set_dash_pattern()
        else:
            assert isinstance(shape, Text)
            font(pdf, shape.size, shape.bold)
            text = pdf.safe(shape.text)
            x = x0 + shape.x
            if shape.anchor != "start":
                w = pdf.get_string_width(text)
                x -= w / 2 if shape.anchor == "middle" else w
            pdf.text(x, y0 + shape.y, text)
    pdf.set_draw_color(0)


def _place(pdf: Any, height: float) -> None:
    """Start a new page unless ``height`` points still fit on this one."""
    if pdf.get_y() + height > pdf.h - 60:
        pdf.add_page()


def bullets(pdf: Any, sentences: list[str]) -> None:
    for sentence in sentences:
        font(pdf, 10.5)
        pdf.set_x(MARGIN)
        pdf.cell(12, 14, pdf.safe("•") if pdf.unicode_font else "-")
        pdf.multi_cell(CONTENT_W - 12, 13.5, pdf.safe(sentence), markdown=False,
                       new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)


WIDE_CHART_H = 105.0
STEP_CHART_H = 145.0
WIDE_STEP_CHART_H = 118.0
HALF_CHART_H = 115.0


def letterhead(pdf: Any, clinic_name: str, clinic_contact: str | None) -> None:
    """A new page headed with the clinic's name and contact and a rule (packets and letters)."""
    pdf.add_page()
    para(pdf, clinic_name, 16, bold=True, gap=0)
    if clinic_contact:
        para(pdf, clinic_contact, 9.5, gap=0)
    pdf.ln(4)
    pdf.set_line_width(1.2)
    pdf.line(MARGIN, pdf.get_y(), PAGE_W - MARGIN, pdf.get_y())
    pdf.ln(8)


def render_pdf(packet: Packet) -> bytes:
    pdf = new_document(
        f"{packet.title}: {packet.partner_name}",
        f"{packet.clinic_name} · outcomes report for {packet.partner_name}",
    )
    letterhead(pdf, packet.clinic_name, packet.clinic_contact)
    para(pdf, packet.title, 15, bold=True, gap=1)
    who = packet.partner_name + (f" ({packet.partner_detail})" if packet.partner_detail else "")
    para(pdf, f"For: {who}", 11.5, gap=0)
    para(pdf, f"Patients referred: {packet.period_label}. {packet.prepared_label}.", 10.5)

    heading(pdf, "Summary")
    bullets(pdf, packet.summary)

    heading(pdf, "Key figures")
    table(pdf, packet.key_figures, (2.6, 1.4, 1.4), size=9.5)

    if packet.conditions.rows:
        heading(pdf, "Outcomes by condition")
        table(pdf, packet.conditions, (2.9, 0.9, 1.5, 0.9, 1.5), size=8.5)

    if packet.outcomes.rows:
        heading(pdf, "Outcomes by measure")
        table(pdf, packet.outcomes, (2.1, 1.3, 1.5, 0.8, 0.8, 1.5, 0.8), size=8.5)

    if packet.adjusted:
        heading(pdf, "Compared with what the clinic's model expects")
        bullets(pdf, packet.adjusted)

    # Charts with many bars get the full width; small two-series charts go side by side. The
    # time-to-recovery chart goes first, beside the MCID chart (a half page of 26 weeks still
    # gives 9 points a week), or across the page when it is alone in its row.
    half = (CONTENT_W - 20) / 2
    if packet.charts or packet.recovery_chart:
        heading(pdf, "Charts")
    wide: list[Chart] = []
    pending: list[Chart | StepChart] = []
    if packet.recovery_chart is not None:
        pending.append(packet.recovery_chart)
    for chart in packet.charts:
        bars = len(chart.series) * len(chart.categories)
        (wide if bars > (8 if len(chart.series) > 1 else 14) else pending).append(chart)
    # Chart heights leave room for the methods note on page 2 ("one or two pages").
    for chart in wide:
        _place(pdf, WIDE_CHART_H)
        draw_chart(pdf, chart, MARGIN, pdf.get_y(), CONTENT_W, WIDE_CHART_H)
        pdf.set_y(pdf.get_y() + WIDE_CHART_H + 6)
    for i in range(0, len(pending), 2):
        row = pending[i : i + 2]
        height = STEP_CHART_H if any(isinstance(c, StepChart) for c in row) else HALF_CHART_H
        _place(pdf, height)
        y = pdf.get_y()
        if len(row) == 1 and isinstance(row[0], StepChart):
            # Alone in its row, the chart has the width it needs in less height.
            height = WIDE_STEP_CHART_H
            _place(pdf, height)
            y = pdf.get_y()
            draw_chart(pdf, row[0], MARGIN, y, CONTENT_W, height)
        else:
            for j, item in enumerate(row):
                draw_chart(pdf, item, MARGIN + j * (half + 20), y, half, height)
        pdf.set_y(y + height + 6)

    # The methods note is read as a whole: when it does not fit under the charts it starts a
    # page of its own (the third, when the evidence figures fill page 2) rather than breaking.
    # Its height is estimated from the text widths (a dry run of the line breaking would cost
    # as much as setting the note).
    font(pdf, 7.5)
    lines = sum(math.ceil(1.04 * pdf.get_string_width(pdf.safe(note)) / CONTENT_W)
                for note in packet.methods)
    needed = 30 + lines * 7.5 * 1.2 + 1.5 * len(packet.methods)
    if pdf.get_y() + needed > pdf.h - 60 and needed < pdf.h - 160:
        pdf.add_page()
    heading(pdf, "Methods", 11)
    for note in packet.methods:
        para(pdf, note, 7.5, gap=1.5, height=7.5 * 1.2)
    return bytes(pdf.output())
