"""Bar charts as vector primitives, drawn the same way in the PDF (fpdf2) and in HTML (SVG).

Why not matplotlib: importing it costs 0.3-0.5 s per process, more than the rest of a packet
together, and its output needs a second vector path into fpdf2. These charts are simple bars, so
they are laid out here once as primitives (rectangles, lines, text) and each renderer draws them.

Fax-friendly: no colour carries meaning. The first series is solid dark grey, the second is
white with a black outline; every bar carries its value as text, so the chart reads in black and
white and when the bars blur.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from outcomes.documents.packets.content import Chart

DARK = 60      # grey level (0 black .. 255 white) of the first series
GRID = 200     # grey level of grid lines


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: int | None  # grey level, None = no fill
    stroke: bool


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    grey: int
    width: float = 0.6


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    anchor: str = "start"  # start | middle | end
    bold: bool = False


Shape = Rect | Line | Text
SERIES_STYLE = [(DARK, True), (255, True)]


def _nice_max(value: float) -> tuple[float, float]:
    """An axis maximum >= value and its tick step (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0, 1.0
    raw_step = value / 4
    power = 10 ** math.floor(math.log10(raw_step))
    for factor in (1, 2, 5, 10):
        step = max(1.0, factor * power)
        if step >= raw_step:
            break
    return step * math.ceil(value / step), step


def value_label(value: float, unit: str) -> str:
    return f"{round(value)}%" if unit == "%" else f"{value:g}"


def _fit(text: str, width: float, size: float) -> float:
    """A font size at most ``size`` at which ``text`` fits ``width`` (about 0.6 em a glyph)."""
    return max(4.5, min(size, width / (0.6 * max(1, len(text)))))


def layout(chart: Chart, width: float, height: float) -> list[Shape]:
    """The chart as shapes in a ``width`` x ``height`` box (origin top left, y down)."""
    shapes: list[Shape] = [Text(0, 11, chart.title, 10, bold=True)]
    top = 18.0
    if len(chart.series) > 1:
        x = 0.0
        for (fill, stroke), name in zip(SERIES_STYLE, chart.series, strict=False):
            shapes.append(Rect(x, top + 2, 9, 9, fill, stroke))
            shapes.append(Text(x + 13, top + 10, name, 8))
            x += 13 + 5.0 * len(name) + 14
        top += 16
    bottom_space = 30.0 if any(chart.category_notes) else 22.0
    if chart.note:
        bottom_space += 11
    left = 30.0
    plot_h = height - top - bottom_space - 10
    plot_w = width - left - 4
    base_y = top + 10 + plot_h
    values = [v for row in chart.values for v in row if v is not None]
    if chart.unit == "%":
        y_max, step = 100.0, 25.0
    else:
        y_max, step = _nice_max(max(values, default=0.0))
    tick = 0.0
    while tick <= y_max + 1e-9:
        y = base_y - plot_h * tick / y_max
        shapes.append(Line(left, y, left + plot_w, y, GRID if tick else 0,
                           0.4 if tick else 0.8))
        label = f"{tick:g}%" if chart.unit == "%" else f"{tick:g}"
        shapes.append(Text(left - 3, y + 2.5, label, 7, anchor="end"))
        tick += step
    n_cat = max(1, len(chart.categories))
    group = plot_w / n_cat
    n_series = max(1, len(chart.series))
    bar_w = min(group * 0.75 / n_series, 40.0)
    label_size = 7.0 if group >= 18 else 6.0
    for i, category in enumerate(chart.categories):
        centre = left + group * (i + 0.5)
        x0 = centre - bar_w * n_series / 2
        for j, value in enumerate(chart.values[i]):
            fill, stroke = SERIES_STYLE[j % len(SERIES_STYLE)]
            x = x0 + j * bar_w
            if value is None:
                shapes.append(Text(x + bar_w / 2, base_y - 3, "*", 8, anchor="middle"))
                continue
            h = plot_h * min(value, y_max) / y_max
            if h > 0:
                shapes.append(Rect(x, base_y - h, bar_w, h, fill, stroke))
            text = value_label(value, chart.unit)
            shapes.append(Text(x + bar_w / 2, base_y - h - 2.5, text,
                               _fit(text, bar_w + 2, label_size), anchor="middle"))
        shapes.append(Text(centre, base_y + 10, category, _fit(category, group - 2, label_size),
                           anchor="middle"))
        if i < len(chart.category_notes) and chart.category_notes[i]:
            shapes.append(Text(centre, base_y + 19, chart.category_notes[i], label_size,
                               anchor="middle"))
    if chart.note:
        shapes.append(Text(0, height - 3, "* " + chart.note, 7))
    return shapes


def svg(chart: Chart, width: float = 500, height: float = 200) -> str:
    """The chart as an inline SVG element (no external references)."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
        f'width="{width:g}" height="{height:g}" role="img" aria-label="{escape(chart.title)}" '
        'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">'
    ]
    for shape in layout(chart, width, height):
        if isinstance(shape, Rect):
            fill = "none" if shape.fill is None else f"rgb({shape.fill},{shape.fill},{shape.fill})"
            stroke = ' stroke="black" stroke-width="0.8"' if shape.stroke else ""
            parts.append(f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.w:.1f}" '
                         f'height="{shape.h:.1f}" fill="{fill}"{stroke}/>')
        elif isinstance(shape, Line):
            g = shape.grey
            parts.append(f'<line x1="{shape.x1:.1f}" y1="{shape.y1:.1f}" x2="{shape.x2:.1f}" '
                         f'y2="{shape.y2:.1f}" stroke="rgb({g},{g},{g})" '
                         f'stroke-width="{shape.width:g}"/>')
        else:
            weight = ' font-weight="bold"' if shape.bold else ""
            parts.append(f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" font-size="{shape.size:g}" '
                         f'text-anchor="{shape.anchor}"{weight}>{escape(shape.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
