"""Stored text made safe for a terminal, and the plain-text rule for names.

Anything a user or a file typed may hold bytes a terminal obeys rather than shows: ESC starts
CSI/OSC sequences (ESC[2J clears the screen, OSC 0 retitles the window, OSC 8 plants a hidden
hyperlink), BEL and backspace act, C1 codes (U+0080-009F) are 8-bit escapes on some terminals,
carriage return overwrites a line, and the bidi overrides and isolates reorder what follows them
(a right-to-left override makes ``exe.txt`` read as ``txt.exe``). Those characters are stored as
typed (a comment is a record of what the patient wrote) and made visible on the way out by
:func:`printable` and :func:`one_line`. Names, which identify things in every table, refuse them
at input (:func:`find_control`).

This module only neutralises terminal controls. Rich/Textual markup (``[bold]``) is a separate
matter for the front ends (``render_markup=False``, ``rich.markup.escape``).
"""

from __future__ import annotations

import re
import unicodedata

# Bidirectional formatting characters: marks (ALM, LRM, RLM), embeddings and overrides
# (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f" + "".join(chr(c) for c in range(0x202A, 0x202F))
    + "".join(chr(c) for c in range(0x2066, 0x206A))
)
# Characters some terminals and widgets treat as line breaks besides \n and \r.
LINE_SEPARATORS = frozenset("\u2028\u2029")

# Controls that act like plain spacing in running text: one_line turns them into one space.
_SPACING = frozenset("\t\n\r\v\f\x1c\x1d\x1e\x85") | LINE_SEPARATORS
_ELLIPSIS = "\u2026"
# The same set as is_control, as one character class: a C-speed scan for the common case of
# text with no control character at all (every name on every import row).
_CONTROL_RE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\u2028\u2029]"
)
# The same set less the newline, which in JSON output is only ever its indentation (json writes
# one inside a string as an escape): a match is then rare, and each costs a Python call.
_JSON_CONTROL_RE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\u2028\u2029]"
)


def is_control(char: str) -> bool:
    """Whether one character must never reach a terminal as itself.

    C0 (U+0000-001F, tab and newline included), DEL, C1 (U+0080-009F), lone surrogates (which
    cannot even be encoded for output), the bidi controls and the Unicode line separators.
    """
    category = unicodedata.category(char)
    return category in ("Cc", "Cs") or char in BIDI_CONTROLS or char in LINE_SEPARATORS


def json_escaped(text: str) -> str:
    """JSON text with every control character but the newline (its indentation's) written as
    a ``\\uXXXX`` escape, which a JSON reader turns back into the same character; one C-speed
    scan, as JSON output can run to megabytes."""
    return _JSON_CONTROL_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def visible(char: str) -> str:
    """The escape shown in place of a control character: ``\\x1b``, ``\\u202e``."""
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character (see :func:`is_control`) shown as an escape.

    Text without control characters comes back unchanged. With ``keep_newlines`` (a comment shown
    in a multi-line box) newline and tab stay as they are and CR LF becomes a newline; a lone CR,
    which would overwrite the start of its line, is still escaped.
    """
    if not _CONTROL_RE.search(text):
        return text  # the common case, no copy
    if keep_newlines:
        text = text.replace("\r\n", "\n")
    out = []
    for char in text:
        if keep_newlines and char in "\n\t":
            out.append(char)
        elif is_control(char):
            out.append(visible(char))
        else:
            out.append(char)
    return "".join(out)


def char_width(char: str) -> int:
    """Terminal cells one character takes: 2 for East Asian wide, 0 for combining marks."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes (an estimate: emoji sequences may differ by terminal)."""
    return sum(char_width(char) for char in text)


def one_line(text: str, width: int | None = None) -> str:
    """``text`` for one table cell: line breaks and tabs as single spaces, other controls escaped,
    cut to ``width`` terminal cells with an ellipsis when it is longer.

    Runs of whitespace are collapsed and the ends trimmed, so a multi-line note reads as one line.
    """
    if width is not None and width < 1:
        raise ValueError("width must be at least 1")
    tokens: list[str] = []
    pending_space = False
    for char in text:
        if char in _SPACING or char.isspace():
            pending_space = bool(tokens)
            continue
        if pending_space:
            tokens.append(" ")
            pending_space = False
        tokens.append(visible(char) if is_control(char) else char)
    if width is None or sum(cell_width(t) for t in tokens) <= width:
        return "".join(tokens)
    # Cut between tokens, never inside an escape, leaving one cell for the ellipsis.
    kept: list[str] = []
    used = 0
    for token in tokens:
        size = cell_width(token)
        if used + size > width - 1:
            break
        kept.append(token)
        used += size
    return "".join(kept).rstrip() + _ELLIPSIS


def find_control(text: str) -> tuple[int, str] | None:
    """The first control character in ``text`` as (1-based position, its escape), or None."""
    found = _CONTROL_RE.search(text)
    if found is None:
        return None
    return found.start() + 1, visible(found.group())


__all__ = [
    "BIDI_CONTROLS", "LINE_SEPARATORS", "cell_width", "char_width", "find_control", "is_control",
    "json_escaped", "one_line", "printable", "visible",
]


def strip_controls(text: str) -> str:
    """``text`` without its control characters (they have no width on screen, so a screen
    line keeps its layout): the dashboard's last line of defence before the terminal."""
    if _CONTROL_RE.search(text) is None:
        return text
    return _CONTROL_RE.sub("", text)
