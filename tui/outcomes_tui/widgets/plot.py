"""A chart widget drawn with plotext 6, sized to the widget and coloured from the theme.

Like textual-plotext's ``PlotextPlot`` (which does not support plotext 6), each widget owns its
own plotext figure (a private ``terminal`` object, so two charts never share state), rebuilds it
at the widget's size on every render, and takes its colours from the current Textual theme.
plotext takes ~0.17 s to import, so it is imported in a worker thread the first time a chart gets
data; until then the chart shows its message and the event loop never waits for the import.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import work
from textual.color import Color
from textual.widget import Widget

PLOTEXT = "plotext._kernel.terminal"


def plotext_ready() -> bool:
    return PLOTEXT in sys.modules


@dataclass(frozen=True)
class Series:
    """One series: x labels (strings) or numbers, y values, and a label for the legend."""

    x: Sequence[Any]
    y: Sequence[float]
    label: str = ""
    kind: str = "bar"  # "bar" or "line"


def _rgb(value: str) -> tuple[int, int, int]:
    color = Color.parse(value)
    return (color.r, color.g, color.b)


class Plot(Widget):
    """A bar or line chart. Call :meth:`set_data`; it redraws on resize and theme change."""

    DEFAULT_CSS = """
    Plot { height: 1fr; min-height: 8; }
    """

    def __init__(self, title: str = "", *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.series: list[Series] = []
        self.message = "Loading…"

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def _theme_changed(self, _theme: str) -> None:
        self.refresh()

    def set_data(self, series: list[Series], title: str | None = None,
                 message: str = "No data yet") -> None:
        self.series = series
        self.message = message
        if title is not None:
            self.title = title
        if plotext_ready() or not self.has_data():
            self.refresh()
        else:
            self._import_plotext()

    @work(thread=True, group="plotext", exit_on_error=False)
    def _import_plotext(self) -> None:
        import importlib

        for name in (PLOTEXT, "plotext._primitives.marker", "plotext._primitives.pixel"):
            importlib.import_module(name)
        self.app.call_from_thread(self.refresh)

    def _colours(self) -> dict[str, tuple[int, int, int]]:
        variables = self.app.theme_variables or self.app.get_css_variables()
        return {
            name: _rgb(variables.get(name, fallback))
            for name, fallback in (
                ("primary", "#0178D4"), ("secondary", "#004578"), ("accent", "#ffa62b"),
                ("foreground", "#e0e0e0"), ("foreground-muted", "#a0a0a0"),
            )
        }

    def has_data(self) -> bool:
        """Any value to draw. Bars of zero are counts of nothing (plotext would draw an axis
        from -1 to 1 around them); a line at zero is a measured zero, so it is data."""
        return any(len(s.y) and (s.kind == "line" or any(s.y)) for s in self.series)

    def build_text(self, width: int, height: int) -> Text:
        """The chart as styled text, ``width`` x ``height`` cells (public for tests)."""
        if width < 10 or height < 4 or not self.has_data():
            return Text(self.message if width >= 1 else "", style="dim")
        from plotext._kernel.terminal import terminal
        from plotext._primitives.marker import marker
        from plotext._primitives.pixel import pixel

        colours = self._colours()
        term = terminal()
        term.limit(False, False)
        fig = term._master
        fig.plot_size(width, height)
        fig.canvas("default")
        fg = pixel(foreground=colours["foreground-muted"])
        fig.axes(True, pixel=fg)
        fig.ruler("both").pixel(fg)
        if self.title:
            fig.title(self.title)
        palette = [colours["primary"], colours["accent"], colours["secondary"]]
        labels = [str(x) for x in self.series[0].x]
        marks = [
            marker("hd" if series.kind == "line" else "full")._set_pixel(
                pixel(foreground=palette[index % len(palette)])
            )
            for index, series in enumerate(self.series)
        ]
        bars = [s for s in self.series if s.kind == "bar"]
        if len(bars) > 1:
            # Grouped bars side by side (partner next to clinic); the title names the order.
            xs = list(range(1, len(bars[0].y) + 1))
            fig.draw(fig.bar(xs, [list(s.y) for s in bars], marker=marks[: len(bars)]))
        for index, series in enumerate(self.series):
            if series.kind == "bar" and len(bars) > 1:
                continue
            xs = list(range(1, len(series.y) + 1))
            if series.kind == "line":
                signal = fig.signal(xs, list(series.y), marker=marks[index])
                signal.lines(True)
            else:
                # Narrow bars so neighbouring months stay apart.
                signal = fig.bar(xs, list(series.y), marker=marks[index], width=0.6)
            fig.draw(signal)
        if labels:
            step = max(1, (len(labels) * 8) // max(width - 8, 8) + 1)
            positions = list(range(1, len(labels) + 1, step))
            fig.ruler("x").ticks(positions, [labels[p - 1] for p in positions])
        text = Text.from_ansi(fig.build().string())
        # plotext paints label backgrounds; the widget's own background shows instead.
        text.spans = [
            span._replace(style=Style(color=s.color, bold=s.bold) if isinstance(
                s := span.style, Style) else span.style)
            for span in text.spans
        ]
        text.style = Style(color=None)
        return text

    def render(self) -> Text:
        if self.has_data() and not plotext_ready():
            return Text("Drawing the chart…", style="dim")
        return self.build_text(self.size.width, self.size.height)
