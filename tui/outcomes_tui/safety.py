"""Nothing stored reaches the terminal as a command: every line the dashboard draws passes a
filter that removes control characters (ESC, BEL, C1 codes, bidi overrides...).

Stored text is kept as typed (a patient's comment is a record), and a stored escape sequence
would otherwise reach the terminal through any widget that shows it: a partner name in a table,
a comment in a pane, a notification. Filtering the drawn lines (Textual's public
``LineFilter`` and ``App.get_line_filters``) covers every widget at once; control characters
have no width, so removing them keeps each line's layout. The visible rest of a sequence
(``[2J``, ``]0;title``) shows as plain text.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from outcomes.text import strip_controls


class ControlCharacters(LineFilter):
    """Removes control characters from every segment of every line drawn."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            segment if segment.control else
            Segment(strip_controls(segment.text), segment.style)
            for segment in segments
        ]
