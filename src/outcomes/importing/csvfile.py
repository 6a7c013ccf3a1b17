"""Reading CSV files people export from spreadsheets and EMRs, and writing safe ones.

Reading: UTF-8 (with or without BOM), falling back to Windows-1252 for spreadsheet exports; every
problem (NUL bytes, a huge field, an absurd header) becomes an error naming file and line.
Writing: cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from outcomes.errors import OutcomesError

MAX_COLUMNS = 200
MAX_FIELD = 100_000  # characters; a notes field longer than this is almost surely a broken file
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CsvError(OutcomesError):
    """The file cannot be read as a CSV table at all (before any row is considered)."""


@dataclass(frozen=True)
class CsvTable:
    path: Path
    encoding: str
    header: list[str]
    text: str

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number where the record starts, cells) for each data row; raises CsvError."""
        reader = csv.reader(io.StringIO(self.text, newline=""), strict=True)
        line = 1
        try:
            next(reader)
            line = reader.line_num + 1
            for cells in reader:
                start = line
                line = reader.line_num + 1
                if not cells or all(not c.strip() for c in cells):
                    continue
                yield start, cells
        except csv.Error as exc:
            raise CsvError(f"{self.path}, line {line}: {_csv_message(exc)}") from None

    @property
    def size(self) -> int:
        return len(self.text)


def _csv_message(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a field is longer than {MAX_FIELD:,} characters; is this the right file?"
    if "NUL" in text:
        return "the file contains NUL bytes; it is not a text CSV file."
    return f"the CSV is malformed ({text})."


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """Decode file bytes; return (text, encoding name)."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise CsvError(f"{path}, line {line}: the file contains NUL bytes; "
                       "it is not a text CSV file (was it saved as .xlsx?).")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise CsvError(
            f"{path}: the file is neither UTF-8 nor Windows-1252 text (byte {exc.start}); "
            "save it from your spreadsheet as 'CSV UTF-8'."
        ) from None


def read_table(path: Path | str) -> CsvTable:
    """Read a CSV file with a header row."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CsvError(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise CsvError(f"{path} is a folder, not a CSV file.") from None
    except OSError as exc:
        raise CsvError(f"Cannot read {path}: {exc.strerror}.") from None
    text, encoding = decode(data, path)
    csv.field_size_limit(MAX_FIELD)
    first_line = text.split("\n", 1)[0]
    if first_line.count(",") >= MAX_COLUMNS * 5:
        raise CsvError(f"{path}, line 1: the header has more than {MAX_COLUMNS} columns.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise CsvError(f"{path}, line 1: {_csv_message(exc)}") from None
    if not header or all(not h.strip() for h in header):
        raise CsvError(f"{path} is empty or has no header row.")
    if len(header) > MAX_COLUMNS:
        raise CsvError(f"{path}, line 1: the header has {len(header)} columns; "
                       f"at most {MAX_COLUMNS} are read.")
    return CsvTable(path, encoding, [h.strip() for h in header], text)


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
