"""Bar and step charts as vector primitives, drawn the same way in the PDF (fpdf2) and in HTML
(SVG).

Why not matplotlib: importing it costs 0.3-0.5 s per process, more than the rest of a packet
together, and its output needs a second vector path into fpdf2. These charts are simple bars, so
they are laid out here once as primitives (rectangles, lines, text) and each renderer draws them.

Fax-friendly: no colour carries meaning. The first series is solid dark grey, the second is
white with a black outline; every bar carries its value as text, so the chart reads in black and
white and when the bars blur. In the step chart (time to recovery) the partner's line is thick
solid black and the clinic's thinner, dashed and grey, and each line ends with its last value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from outcomes.documents.packets.content import Chart, StepChart, Table

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
    dash: float = 0.0
    """Dash and gap length for a dashed line; 0 = solid."""


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
LINE_STYLE = [(0, 2.4, 0.0), (110, 1.8, 4.0)]
"""Step chart lines: (grey level, width, dash) of the partner's and the clinic's."""


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


def _week_step(weeks: int) -> int:
    """Weeks between x-axis labels: every week up to 8, else every 2, else every 4."""
    return 1 if weeks <= 8 else 2 if weeks <= 16 else 4


def step_layout(chart: StepChart, width: float, height: float) -> list[Shape]:
    """The step chart as shapes in a ``width`` x ``height`` box (origin top left, y down):
    value ``values[s][w]`` holds from the end of week ``w`` to the end of week ``w + 1``."""
    shapes: list[Shape] = [Text(0, 11, chart.title, 10, bold=True)]
    top = 18.0
    x = 0.0
    for (grey, lw, dash), name, values in zip(LINE_STYLE, chart.series, chart.values,
                                              strict=False):
        if values is None:
            continue
        shapes.append(Line(x, top + 6.5, x + 22, top + 6.5, grey, lw, dash))
        shapes.append(Text(x + 27, top + 10, name, 8))
        x += 27 + 5.0 * len(name) + 14
    top += 16
    shapes.append(Text(0, top + 7, chart.y_label, 7))
    top += 12
    left, right = 30.0, 30.0
    bottom_space = 26.0 + (11 if chart.note else 0)
    plot_w = width - left - right
    plot_h = height - top - bottom_space
    base_y = top + plot_h
    weeks = max(1, chart.weeks)

    def px(week: float) -> float:
        return left + plot_w * week / weeks

    def py(share: float) -> float:
        return base_y - plot_h * max(0.0, min(share, 100.0)) / 100.0

    for tick in (0, 25, 50, 75, 100):
        grey = 0 if tick == 0 else 150 if tick == 50 else GRID
        shapes.append(Line(left, py(tick), left + plot_w, py(tick), grey, 0.8 if tick in
                           (0, 50) else 0.4))
        shapes.append(Text(left - 3, py(tick) + 2.5, f"{tick}%", 7, anchor="end"))
    shapes.append(Line(left, base_y, left, py(100), 0, 0.8))
    step = _week_step(weeks)
    for week in range(0, weeks + 1, step):
        shapes.append(Line(px(week), base_y, px(week), base_y + 3, 0, 0.8))
        shapes.append(Text(px(week), base_y + 11, str(week), 7, anchor="middle"))
    shapes.append(Text(left + plot_w / 2, base_y + 21, chart.x_label, 7.5, anchor="middle"))
    ends: list[float] = []
    for (grey, lw, dash), values in zip(LINE_STYLE, chart.values, strict=False):
        if not values:
            continue
        # One segment per run of equal values, so a dashed line keeps its pattern.
        start, level = 0, values[0]
        for week in range(1, len(values)):
            if values[week] != level:
                shapes.append(Line(px(start), py(level), px(week), py(level), grey, lw, dash))
                shapes.append(Line(px(week), py(level), px(week), py(values[week]), grey, lw,
                                   dash))
                start, level = week, values[week]
        last = len(values) - 1
        if last > start:
            shapes.append(Line(px(start), py(level), px(last), py(level), grey, lw, dash))
        y = py(level) + 2.5
        if any(abs(y - e) < 8 for e in ends):  # two lines ending level: labels one above
            y = min(ends) - 8
        ends.append(y)
        shapes.append(Text(px(last) + 3, y, f"{round(level)}%", 7.5, bold=grey == 0))
    if chart.note:
        shapes.append(Text(0, height - 3, chart.note, 7))
    return shapes


def step_table(chart: StepChart) -> Table:
    """The step chart as text (Markdown, and beside the SVG in HTML): the share not yet
    recovered at the end of every other week and of the last week drawn; a cell is blank
    after its line stops."""
    last = chart.weeks
    weeks = sorted({*range(0, last + 1, 2), last})
    header = ["Week", *(name for name, v in zip(chart.series, chart.values, strict=False)
                        if v is not None)]
    shown = [v for v in chart.values if v is not None]
    return Table(header, [[str(w), *(f"{round(v[w])}%" if w < len(v) else "" for v in shown)]
                          for w in weeks])


def shapes_of(chart: Chart | StepChart, width: float, height: float) -> list[Shape]:
    return (step_layout(chart, width, height) if isinstance(chart, StepChart)
            else layout(chart, width, height))


def svg(chart: Chart | StepChart, width: float = 500, height: float = 200) -> str:
    """The chart as an inline SVG element (no external references)."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
        f'width="{width:g}" height="{height:g}" role="img" aria-label="{escape(chart.title)}" '
        'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">'
    ]
    for shape in shapes_of(chart, width, height):
        if isinstance(shape, Rect):
            fill = "none" if shape.fill is None else f"rgb({shape.fill},{shape.fill},{shape.fill})"
            stroke = ' stroke="black" stroke-width="0.8"' if shape.stroke else ""
            parts.append(f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.w:.1f}" '
                         f'height="{shape.h:.1f}" fill="{fill}"{stroke}/>')
        elif isinstance(shape, Line):
            g = shape.grey
            dash = (f' stroke-dasharray="{shape.dash:g} {shape.dash * 0.75:g}"'
                    if shape.dash else "")
            parts.append(f'<line x1="{shape.x1:.1f}" y1="{shape.y1:.1f}" x2="{shape.x2:.1f}" '
                         f'y2="{shape.y2:.1f}" stroke="rgb({g},{g},{g})" '
                         f'stroke-width="{shape.width:g}"{dash}/>')
        else:
            weight = ' font-weight="bold"' if shape.bold else ""
            parts.append(f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" font-size="{shape.size:g}" '
                         f'text-anchor="{shape.anchor}"{weight}>{escape(shape.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
