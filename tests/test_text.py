"""Terminal-safe text: every control character made visible, printable text left alone."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes.text import cell_width, find_control, is_control, one_line, printable

# An independent statement of what must never reach a terminal (not a copy of the code under
# test): C0, DEL, C1, surrogates, the bidi formatting characters and the line separators.
BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def dangerous(char: str) -> bool:
    code = ord(char)
    return (code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or code in BIDI
            or code in (0x2028, 0x2029))


# Text drawn with the dangerous characters well represented.
hostile = st.text(
    st.one_of(
        st.characters(),
        st.sampled_from([chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\x9b", "\x9d"]
                        + [chr(c) for c in sorted(BIDI)] + ["\u2028", "\u2029", "\ud800"]),
    ),
    max_size=60,
)
safe = st.text(st.characters(exclude_categories=("Cc", "Cs")).filter(lambda c: not dangerous(c)),
               max_size=60)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;pwned\x07Dr A", "\\x1b]0;pwned\\x07Dr A"),  # OSC 0 retitles the window
        ("\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\",  # OSC 8 hidden hyperlink
         "\\x1b]8;;http://evil/\\x1b\\click\\x1b]8;;\\x1b\\"),
        ("\x1b[2JDr A", "\\x1b[2JDr A"),  # clears the screen
        ("\x9b2J", "\\x9b2J"),  # the same as an 8-bit C1 CSI
        ("Smith\u202etxt.exe", "Smith\\u202etxt.exe"),  # right-to-left override
        ("a\u2066b\u2069c", "a\\u2066b\\u2069c"),  # isolates
        ("a\u200fb\u200ec\u061c", "a\\u200fb\\u200ec\\u061c"),  # marks
        ("Dr A\rEvil", "Dr A\\x0dEvil"),  # CR would overwrite the name
        ("bell\x07 del\x7f", "bell\\x07 del\\x7f"),
        ("line\nnext\ttab", "line\\x0anext\\x09tab"),
        ("a\u2028b", "a\\u2028b"),
        ("bad \udc81 byte", "bad \\udc81 byte"),  # a surrogate left by surrogateescape
        ("Zoë Łukasz 李 [bold]x[/bold] 😀", "Zoë Łukasz 李 [bold]x[/bold] 😀"),  # unchanged
    ],
)
def test_printable_examples(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_printable_can_keep_newlines_but_never_a_lone_cr() -> None:
    assert printable("one\r\ntwo\n\tthree\rfour\x1b", keep_newlines=True) == (
        "one\ntwo\n\tthree\\x0dfour\\x1b"
    )


@given(hostile, st.booleans())
def test_printable_output_has_no_control_character(text: str, keep_newlines: bool) -> None:
    out = printable(text, keep_newlines=keep_newlines)
    allowed = "\n\t" if keep_newlines else ""
    assert not any(dangerous(c) for c in out if c not in allowed)
    # Encodable: a surrogate would crash the write to the terminal.
    out.encode("utf-8")


@given(hostile)
def test_printable_keeps_every_other_character_in_order(text: str) -> None:
    out = printable(text)
    kept = "".join(c for c in text if not dangerous(c))
    assert "".join(c for c in out if not c.isascii()) == "".join(
        c for c in kept if not c.isascii())


@given(safe)
def test_printable_text_is_unchanged(text: str) -> None:
    assert printable(text) == text
    assert printable(text, keep_newlines=True) == text


@given(hostile)
def test_is_control_matches_the_independent_definition(text: str) -> None:
    for char in text:
        assert is_control(char) == dangerous(char)


def test_find_control_names_position_and_escape() -> None:
    assert find_control("Dr \x1b[31mA") == (4, "\\x1b")
    assert find_control("Smith\u202e") == (6, "\\u202e")
    assert find_control("Zoë") is None


# --- one_line -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "width", "shown"),
    [
        ("Dr A", 10, "Dr A"),
        ("line one\nline two", None, "line one line two"),  # a note reads as one line
        ("  tabs\t\tand\r\nbreaks  ", None, "tabs and breaks"),
        ("a\u2028b", None, "a b"),
        ("Dr \x1b[2JA", None, "Dr \\x1b[2JA"),
        ("abcdefghij", 10, "abcdefghij"),  # exactly the width: not cut
        ("abcdefghijk", 10, "abcdefghi…"),  # one over: cut with an ellipsis
        ("李李李李李李", 6, "李李…"),  # wide characters count two cells
        ("ab\x1bcd", 4, "ab…"),  # never cut inside an escape
        ("abc", 1, "…"),
    ],
)
def test_one_line_examples(raw: str, width: int | None, shown: str) -> None:
    assert one_line(raw, width) == shown


def test_one_line_rejects_a_width_below_one() -> None:
    with pytest.raises(ValueError):
        one_line("x", 0)


@given(hostile, st.integers(1, 40))
def test_one_line_fits_and_is_safe(text: str, width: int) -> None:
    out = one_line(text, width)
    assert cell_width(out) <= width
    assert not any(dangerous(c) for c in out)
    assert "\n" not in out


@given(safe.filter(lambda t: t == " ".join(t.split()) and not any(c.isspace() and c != " "
                                                                   for c in t)))
def test_one_line_leaves_short_plain_text_alone(text: str) -> None:
    assert one_line(text, max(1, cell_width(text))) == text


def test_cell_width() -> None:
    assert cell_width("abc") == 3
    assert cell_width("李") == 2
    assert cell_width("e\u0301") == 1  # e + combining acute
    assert unicodedata.east_asian_width("Ａ") == "F" and cell_width("Ａ") == 2


@given(hostile)
def test_find_control_finds_the_first_control_character(text: str) -> None:
    # find_control scans with a regular expression; it must agree with is_control everywhere.
    expected = next(((i, c) for i, c in enumerate(text, start=1) if dangerous(c)), None)
    found = find_control(text)
    if expected is None:
        assert found is None
    else:
        assert found is not None and found[0] == expected[0]
        assert found[1] == printable(expected[1])


def test_every_control_code_point_is_caught_by_the_fast_scan() -> None:
    for code in range(0x110000):
        char = chr(code)
        assert (find_control(char) is not None) == dangerous(char), hex(code)


@given(st.text())
def test_json_escaped_escapes_exactly_the_control_characters_but_newline(s: str) -> None:
    from outcomes.text import json_escaped

    expected = "".join(f"\\u{ord(c):04x}" if c != "\n" and is_control(c) else c for c in s)
    assert json_escaped(s) == expected


def test_json_escaped_json_reads_back_the_same_data() -> None:
    import json

    from outcomes.text import json_escaped

    data = {"name": "Dr. \x1b]0;pwned\x07 Lee\u202e\x85", "n": [1, 2]}
    text = json_escaped(json.dumps(data, indent=2, ensure_ascii=False))
    assert not any(is_control(c) for c in text if c != "\n")
    assert json.loads(text) == data


def test_print_json_is_indented_at_a_terminal_and_one_line_in_a_pipe(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json
    import sys

    from outcomes.cli.common import print_json

    data = {"partners": [{"name": "Dr. \x1b[2J Lee", "n": 3}], "clinic": {"n": 9}}
    for tty, lines in ((False, 1), (True, 11)):
        monkeypatch.setattr(sys.stdout, "isatty", lambda tty=tty: tty)
        print_json(data)
        out = capsys.readouterr().out
        assert out.count("\n") == lines
        assert "\x1b" not in out and json.loads(out) == data
