"""Finding new partners in the CMS NPPES data dissemination file.

The monthly file (``npidata_pfile_*.csv``, about 10 GB, ~330 columns) is streamed with
``csv.reader`` over the open file: constant memory, one pass. Each row is filtered with plain
string tests on looked-up column positions (state, zip prefix, primary taxonomy -> kind,
deactivation, NPIs already on file) before any validation; only matching rows are validated as
``Partner`` records. Matches are added as partners at stage 'prospect', committed in batches of
``BATCH`` rows, each batch its own short transaction with its audit row: a run over the whole
file takes minutes, and holding the write lock that long would block every save in the
dashboard. All-or-nothing is therefore not promised: an interrupted import keeps the batches
already committed, and running it again adds the rest (NPIs already on file are skipped).
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from sqlite_utils import Database

from outcomes import vocab
from outcomes.dates import now_iso
from outcomes.errors import ValidationError
from outcomes.models import Partner, validate
from outcomes.store import audit
from outcomes.store.database import transaction

Progress = Callable[[int, int], None]

COL_NPI = "NPI"
COL_ENTITY = "Entity Type Code"
COL_LAST = "Provider Last Name (Legal Name)"
COL_FIRST = "Provider First Name"
COL_ORG = "Provider Organization Name (Legal Business Name)"
COL_CREDENTIAL = "Provider Credential Text"
COL_ADDRESS = "Provider First Line Business Practice Location Address"
COL_CITY = "Provider Business Practice Location Address City Name"
COL_STATE = "Provider Business Practice Location Address State Name"
COL_ZIP = "Provider Business Practice Location Address Postal Code"
COL_PHONE = "Provider Business Practice Location Address Telephone Number"
COL_FAX = "Provider Business Practice Location Address Fax Number"
COL_DEACTIVATED = "NPI Deactivation Date"
COL_REACTIVATED = "NPI Reactivation Date"  # optional
TAXONOMY_SLOTS = 15
REQUIRED = (COL_NPI, COL_ENTITY, COL_LAST, COL_FIRST, COL_ORG, COL_CREDENTIAL, COL_ADDRESS,
            COL_CITY, COL_STATE, COL_ZIP, COL_PHONE, COL_FAX, COL_DEACTIVATED,
            *(f"Healthcare Provider Taxonomy Code_{i}" for i in range(1, TAXONOMY_SLOTS + 1)),
            *(f"Healthcare Provider Primary Taxonomy Switch_{i}"
              for i in range(1, TAXONOMY_SLOTS + 1)))
BATCH = 500
PROGRESS_EVERY = 20_000  # rows between progress callbacks

INSERT_SQL = (
    "INSERT OR IGNORE INTO partners (name, organization, kind, npi, phone, fax, address, city,"
    " state, zip, stage, stage_source, tags, notes, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'prospect', 'suggested', ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class TaxonomyKind:
    code: str
    kind: str
    name: str


@cache
def nucc_kinds() -> dict[str, TaxonomyKind]:
    """The shipped NUCC taxonomy code -> partner kind mapping (src/outcomes/data)."""
    text = resources.files("outcomes").joinpath("data/nucc_kinds.toml").read_text("utf-8")
    return parse_nucc_kinds(text)


def parse_nucc_kinds(text: str) -> dict[str, TaxonomyKind]:
    """Parse and check a mapping file: every kind must be a partner kind."""
    data = tomllib.loads(text)
    out: dict[str, TaxonomyKind] = {}
    for code, entry in data.get("codes", {}).items():
        if len(code) != 10:
            raise ValidationError(f"NUCC code {code!r} must have 10 characters.")
        kind = vocab.PARTNER_KINDS.normalize(entry["kind"])
        out[code.upper()] = TaxonomyKind(code.upper(), kind, entry.get("name", ""))
    return out


@dataclass
class ProspectReport:
    file: str
    rows: int = 0
    matched: int = 0
    added: int = 0
    skipped_existing: int = 0
    skipped_deactivated: int = 0
    skipped_invalid: int = 0
    skipped_duplicate: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    invalid: list[str] = field(default_factory=list)  # first few reasons, "NPI x: reason"

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in self.by_kind.most_common())
        return (f"Read {self.rows:,} providers from {self.file}: {self.matched:,} matched, "
                f"{self.added:,} added as prospects" + (f" ({kinds})" if kinds else "") +
                f"; skipped {self.skipped_existing:,} already on file, "
                f"{self.skipped_deactivated:,} deactivated, {self.skipped_invalid:,} invalid.")


def _title(text: str) -> str:
    text = text.strip()
    return text.title() if text.isupper() else text


def _zip(text: str) -> str | None:
    digits = text.strip()
    if len(digits) == 9 and digits.isdigit():
        return f"{digits[:5]}-{digits[5:]}"
    if len(digits) == 5 and digits.isdigit():
        return digits
    return digits or None  # anything else fails validation, and the row is counted invalid


def _phone(text: str) -> str | None:
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return text.strip() or None


def import_prospects(
    db: Database,
    path: Path | str,
    states: Iterable[str] = (),
    zips: Iterable[str] = (),
    kinds: Iterable[str] = (),
    progress: Progress | None = None,
) -> ProspectReport:
    """Add matching, active NPPES providers as prospects; skip NPIs already on file.

    ``states``: two-letter codes; ``zips``: zip prefixes ("972", "97201"); ``kinds``: partner
    kinds (synonyms accepted). Empty filters match everything whose primary taxonomy is in the
    NUCC mapping. ``progress(bytes_read, file_size)`` is called now and then.
    """
    path = Path(path)
    state_set = {s.strip().upper() for s in states if s.strip()}
    zip_prefixes = tuple(z.strip() for z in zips if z.strip())
    kind_set = {vocab.PARTNER_KINDS.normalize(k) for k in kinds}
    mapping = {code: tk.kind for code, tk in nucc_kinds().items()
               if not kind_set or tk.kind in kind_set}
    existing = {r[0] for r in db.execute("SELECT npi FROM partners WHERE npi IS NOT NULL")}
    report = ProspectReport(str(path))
    try:
        size = path.stat().st_size
        raw = path.open("rb")
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror}.") from None
    batch: list[tuple[object, ...]] = []
    now = now_iso()
    with raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise ValidationError(f"{path} is empty; expected the NPPES CSV file.") from None
        header = [h.strip().lstrip("\ufeff") for h in header]
        index = {name: i for i, name in enumerate(header)}
        missing = [c for c in REQUIRED if c not in index]
        if missing:
            shown = ", ".join(repr(c) for c in missing[:4])
            more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
            raise ValidationError(
                f"{path}, line 1: not an NPPES dissemination file; missing columns {shown}{more}."
            )
        i_npi, i_state, i_zip = index[COL_NPI], index[COL_STATE], index[COL_ZIP]
        i_deact = index[COL_DEACTIVATED]
        i_react = index.get(COL_REACTIVATED)
        i_codes = [index[f"Healthcare Provider Taxonomy Code_{i}"]
                   for i in range(1, TAXONOMY_SLOTS + 1)]
        i_switch = [index[f"Healthcare Provider Primary Taxonomy Switch_{i}"]
                    for i in range(1, TAXONOMY_SLOTS + 1)]
        slots = list(zip(i_codes, i_switch, strict=True))
        width = len(header)
        rows = 0
        for row in reader:
            rows += 1
            if rows % PROGRESS_EVERY == 0 and progress:
                progress(raw.tell(), size)
            if len(row) < width:
                if not row:
                    rows -= 1
                    continue
                report.skipped_invalid += 1
                continue
            if state_set and row[i_state] not in state_set:
                continue
            if zip_prefixes and not row[i_zip].startswith(zip_prefixes):
                continue
            code = ""
            for i_code, i_sw in slots:
                if row[i_sw] == "Y":
                    code = row[i_code]
                    break
            else:
                code = row[i_codes[0]]
            kind = mapping.get(code)
            if kind is None:
                continue
            report.matched += 1
            if row[i_deact] and not (i_react is not None and row[i_react]):
                report.skipped_deactivated += 1
                continue
            npi = row[i_npi]
            if npi in existing:
                report.skipped_existing += 1
                continue
            item = _prospect(row, index, npi, kind, code, report)
            if item is None:
                continue
            existing.add(npi)
            report.by_kind[kind] += 1
            batch.append((*item, now, now))
            if len(batch) >= BATCH:
                report.added += _flush(db, batch, path)
        report.rows = rows
        if batch:
            report.added += _flush(db, batch, path)
        audit.log(db, "import", "partners", source="nppes", file=str(path), rows=rows,
                  added=report.added, states=sorted(state_set), zips=list(zip_prefixes),
                  kinds=sorted(kind_set), complete=True)
    if progress:
        progress(size, size)
    return report


def _flush(db: Database, batch: list[tuple[object, ...]], path: Path) -> int:
    """Insert one batch in its own transaction (the write lock is held for milliseconds)."""
    with transaction(db):
        before = db.conn.total_changes
        db.conn.executemany(INSERT_SQL, batch)
        added = db.conn.total_changes - before
        audit.log(db, "import", "partners", source="nppes", file=str(path), batch=len(batch),
                  added=added)
    batch.clear()
    return added


def _prospect(row: list[str], index: dict[str, int], npi: str, kind: str, code: str,
              report: ProspectReport) -> tuple[object, ...] | None:
    """Validate one matching row as a Partner; None (counted as invalid) when it fails."""
    entity = row[index[COL_ENTITY]]
    org = _title(row[index[COL_ORG]])
    if entity == "2":
        name = org
    else:
        name = " ".join(p for p in (_title(row[index[COL_FIRST]]),
                                    _title(row[index[COL_LAST]])) if p)
        credential = row[index[COL_CREDENTIAL]].strip()
        if credential and name:
            name = f"{name}, {credential}"
    try:
        # U+FFFD is what a decoder left where it met bytes it could not read: the name is
        # damaged, not a name (NUL and other controls are refused by the Partner model).
        damaged = next((f for f, v in (("name", name), ("organization", org)) if "\ufffd" in v),
                       None)
        if damaged:
            raise ValidationError(f"{damaged} has an unreadable character (U+FFFD): the file's "
                                  "bytes were damaged or in another encoding.", field=damaged)
        partner = validate(Partner, {
            "name": name, "kind": kind, "npi": npi, "organization": org or None,
            "phone": _phone(row[index[COL_PHONE]]), "fax": _phone(row[index[COL_FAX]]),
            "address": _title(row[index[COL_ADDRESS]]) or None,
            "city": _title(row[index[COL_CITY]]) or None,
            "state": row[index[COL_STATE]].strip() or None, "zip": _zip(row[index[COL_ZIP]]),
        })
    except ValidationError as exc:
        report.skipped_invalid += 1
        if len(report.invalid) < 20:
            report.invalid.append(f"NPI {npi}: {exc}")
        return None
    note = f"From NPPES; primary taxonomy {code}."
    return (partner.name, partner.organization, partner.kind, partner.npi, partner.phone,
            partner.fax, partner.address, partner.city, partner.state, partner.zip, "[]", note)
