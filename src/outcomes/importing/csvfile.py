"""Reading CSV files people export from spreadsheets and EMRs, and writing safe ones.

Reading: UTF-8 (with or without BOM), falling back to Windows-1252 for spreadsheet exports; every
problem (NUL bytes, a huge field, an absurd header) becomes an error naming file and line.
Writing: cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from outcomes.errors import OutcomesError

MAX_COLUMNS = 200
MAX_FIELD = 100_000  # characters; a notes field longer than this is almost surely a broken file
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CsvError(OutcomesError):
    """The file cannot be read as a CSV table at all (before any row is considered)."""


@dataclass(frozen=True)
class CsvTable:
    """A CSV file checked for encoding and header, read row by row on demand.

    The file is never held in memory as a whole: ``rows()`` streams it, so a file of any size
    costs the same memory."""

    path: Path
    encoding: str
    header: list[str]
    lines: int  # physical lines, for progress (close to rows for CSV)
    codec: str = "utf-8-sig"

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number where the record starts, cells) for each data row; raises CsvError."""
        csv.field_size_limit(MAX_FIELD)
        line = 1
        with self.path.open(encoding=self.codec, newline="") as fh:
            reader = csv.reader(fh, strict=True)
            try:
                next(reader)
                line = reader.line_num + 1
                for cells in reader:
                    start = line
                    line = reader.line_num + 1
                    # A blank row is skipped; most rows show they are not by their first cell.
                    if cells and (cells[0].strip() or "".join(cells).strip()):
                        yield start, cells
            except csv.Error as exc:
                raise CsvError(f"{self.path}, line {line}: {_csv_message(exc)}") from None


def _csv_message(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a field is longer than {MAX_FIELD:,} characters; is this the right file?"
    if "NUL" in text:
        return "the file contains NUL bytes; it is not a text CSV file."
    return f"the CSV is malformed ({text})."


# Bytes that Windows-1252 leaves undefined: a file holding one is neither UTF-8 nor 1252 text.
_NOT_CP1252 = re.compile(b"[\\x81\\x8d\\x8f\\x90\\x9d]")
_BLOCK = 1 << 20


@dataclass
class _Scan:
    lines: int = 0
    first_line_commas: int = 0
    utf8: bool = True
    # (line, byte value) of the first byte 1252 leaves undefined; looked for only when not UTF-8
    bad_1252: tuple[int, int] | None = None


def scan(fh: BinaryIO, path: Path) -> _Scan:
    """One pass over the bytes in blocks (constant memory): NUL bytes, the encoding, the
    number of lines and the width of the header line."""
    result = _Scan()
    decoder = codecs.getincrementaldecoder("utf-8")()
    in_first_line = True
    while block := fh.read(_BLOCK):
        if b"\x00" in block:
            line = result.lines + block[: block.index(b"\x00")].count(b"\n") + 1
            raise CsvError(f"{path}, line {line}: the file contains NUL bytes; "
                           "it is not a text CSV file (was it saved as .xlsx?).")
        if in_first_line:
            end = block.find(b"\n")
            result.first_line_commas += block[: end if end >= 0 else None].count(b",")
            in_first_line = end < 0
        if result.utf8:
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                result.utf8 = False
        result.lines += block.count(b"\n")
    if result.utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            result.utf8 = False
    if not result.utf8:
        # Only a file that is not UTF-8 is read as Windows-1252; UTF-8 files (nearly all)
        # skip this second pass.
        result.bad_1252 = _first_undefined_1252(fh)
    return result


def _first_undefined_1252(fh: BinaryIO) -> tuple[int, int] | None:
    """(line, byte value) of the first byte Windows-1252 leaves undefined, or None."""
    fh.seek(0)
    lines = 0
    while block := fh.read(_BLOCK):
        bad = _NOT_CP1252.search(block)
        if bad:
            return lines + block[: bad.start()].count(b"\n") + 1, block[bad.start()]
        lines += block.count(b"\n")
    return None


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """Decode file bytes held in memory; return (text, encoding name). Same rules as read_table."""
    info = scan(io.BytesIO(data), path)
    codec, name = _codec(info, path)
    return data.decode(codec), name


def _codec(info: _Scan, path: Path) -> tuple[str, str]:
    if info.utf8:
        return "utf-8-sig", "utf-8"
    if info.bad_1252 is None:
        return "cp1252", "windows-1252"
    line, byte = info.bad_1252
    raise CsvError(
        f"{path}, line {line}: the file is neither UTF-8 nor Windows-1252 text (byte "
        f"0x{byte:02X} on that line is neither); save it from your spreadsheet as 'CSV UTF-8'."
    )


def read_table(path: Path | str) -> CsvTable:
    """Check a CSV file with a header row (encoding, NUL bytes, header); rows are read later."""
    path = Path(path)
    try:
        # A FIFO or a device would block the open or never end: refuse it before opening.
        if path.exists() and not path.is_dir() and not stat.S_ISREG(path.stat().st_mode):
            raise CsvError(f"{path} is not a regular file.")
        with path.open("rb") as fh:
            info = scan(fh, path)
    except FileNotFoundError:
        raise CsvError(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise CsvError(f"{path} is a folder, not a CSV file.") from None
    except OSError as exc:
        raise CsvError(f"Cannot read {path}: {exc.strerror}.") from None
    codec, encoding = _codec(info, path)
    csv.field_size_limit(MAX_FIELD)
    if info.first_line_commas >= MAX_COLUMNS * 5:
        raise CsvError(f"{path}, line 1: the header has more than {MAX_COLUMNS} columns.")
    with path.open(encoding=codec, newline="") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise CsvError(f"{path}, line 1: {_csv_message(exc)}") from None
    if not header or all(not h.strip() for h in header):
        raise CsvError(f"{path} is empty or has no header row.")
    if len(header) > MAX_COLUMNS:
        raise CsvError(f"{path}, line 1: the header has {len(header)} columns; "
                       f"at most {MAX_COLUMNS} are read.")
    return CsvTable(path, encoding, [h.strip() for h in header], info.lines, codec)


def fold(name: str) -> str:
    """Column names compare case-insensitively, ignoring spaces, dashes and underscores."""
    return re.sub(r"[\s_\-]+", "_", name.strip().lower())


def unneutralise(cell: str) -> str:
    """Undo our own export's neutralisation ('=x -> =x), so exports re-import unchanged."""
    if len(cell) >= 2 and cell[0] == "'" and cell[1] in FORMULA_START:
        return cell[1:]
    return cell


def neutralise(value: object) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def write_csv(out: io.TextIOBase | io.StringIO, columns: Sequence[str],
              rows: Sequence[dict[str, object]]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise(row.get(col)) for col in columns])
