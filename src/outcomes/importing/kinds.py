"""The kinds of record that can be imported from CSV, their columns and natural keys.

Column names are matched case-insensitively, ignoring spaces/dashes/underscores; aliases are
listed with each column and in docs/import.md (a test keeps the two in step).

One module because each kind is a short class (columns, key, prepare, write) and the reader of
the CSV looks them all up in one registry; the kinds share the row context and helpers here.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from sqlite_utils import Database

from outcomes.dates import now_iso, parse_date
from outcomes.errors import InstrumentError, ValidationError
from outcomes.importing.csvfile import fold
from outcomes.measures import catalog, nps, responses
from outcomes.measures import summary as outcome_summary
from outcomes.measures.conditions import normalize_fields as normalize_conditions
from outcomes.measures.instruments import get_instrument
from outcomes.models import (
    ClinicalContent,
    Episode,
    Goal,
    NpsResponse,
    OutboundReferral,
    Partner,
    Patient,
    Touchpoint,
    validate,
)
from outcomes.network import outbound, touchpoints
from outcomes.network.episodes import save_episodes, save_patients
from outcomes.network.partners import save_partners
from outcomes.vocab import TIMEPOINTS


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...] = ()
    help: str = ""


class Prepared:
    """A valid row: its natural ``key`` and what the kind's writer stores (``payload``), with
    the ``line`` and ``cells`` it came from. ``row``: the stored row without its created_at,
    when a compiled validator built it (the bulk import of the insert-only kinds; ``payload``
    is then None).

    A plain class with slots, not a dataclass: the bulk import makes one per row (a dataclass
    with a default factory costs twice as much to build)."""

    __slots__ = ("cells", "key", "line", "payload", "row")

    def __init__(self, key: Any, payload: Any, line: int = 0, cells: list[str] | None = None,
                 row: tuple[Any, ...] | None = None) -> None:
        self.key, self.payload, self.line, self.row = key, payload, line, row
        self.cells: list[str] = [] if cells is None else cells


class RowContext:
    """What row validation may look up: partners by NPI and name (loaded once)."""

    def __init__(self, db: Database, today: date | None) -> None:
        self.db = db
        self.today = today
        self._by_npi: dict[str, int] | None = None
        self._by_name: dict[str, list[int]] | None = None

    def _load(self) -> None:
        self._by_npi, self._by_name = {}, {}
        for pid, name, npi in self.db.execute("SELECT id, name, npi FROM partners"):
            if npi:
                self._by_npi[npi] = pid
            self._by_name.setdefault(name.casefold(), []).append(pid)

    def partner_id(self, values: dict[str, str]) -> int | None:
        """Resolve ``partner_npi`` or ``partner`` (a name) to a partner id."""
        if self._by_npi is None:
            self._load()
        assert self._by_npi is not None and self._by_name is not None
        npi = (values.get("partner_npi") or "").strip()
        name = (values.get("partner") or "").strip()
        if npi:
            pid = self._by_npi.get(npi)
            if pid is None:
                raise ValidationError(
                    f"no partner with NPI {npi} is on file; import partners first.",
                    field="partner_npi",
                )
            return pid
        if name:
            ids = self._by_name.get(name.casefold(), [])
            if len(ids) == 1:
                return ids[0]
            if not ids:
                raise ValidationError(f"no partner named {name!r} is on file.", field="partner")
            raise ValidationError(
                f"{len(ids)} partners are named {name!r}; use partner_npi.", field="partner"
            )
        return None


_ACCEPTED: dict[str, dict[str, str]] = {}


class ImportKind:
    name: ClassVar[str]
    table: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    required: ClassVar[tuple[tuple[str, ...], ...]]
    key_description: ClassVar[str]
    appends_only: ClassVar[bool] = False
    """Whether a load only ever adds rows to ``table`` (its roll-up then gains their sums)."""

    def accepted_names(self) -> dict[str, str]:
        """Folded spelling -> column name; folded once per kind (the columns are constants),
        not at every import (a regular expression per alias)."""
        names = _ACCEPTED.get(self.name)
        if names is None:
            names = _ACCEPTED[self.name] = {}
            for col in self.columns:
                for spelling in (col.name, *col.aliases):
                    names[fold(spelling)] = col.name
        return dict(names)

    def prepare(self, values: dict[str, str], ctx: RowContext) -> Prepared:
        raise NotImplementedError

    def check_references(
        self, prepared: list[Prepared], ctx: RowContext
    ) -> list[tuple[Prepared | None, ValidationError]]:
        """Checks that need every row at once (e.g. that episodes exist)."""
        return []

    def write(self, db: Database, prepared: Sequence[Prepared]) -> tuple[int, int, int]:
        raise NotImplementedError

    def bulk_writer(self, db: Database) -> ChunkWriter:
        """A writer for the bulk import, fed one chunk at a time inside one transaction; the
        same end result as ``write`` given every row at once."""
        return ChunkWriter(lambda chunk: self.write(db, chunk))


class ChunkWriter:
    """Writes chunks with a ``write``-like function and adds up its counts."""

    def __init__(self, write: Any) -> None:
        self._write = write
        self.counts = [0, 0, 0]

    def write(self, chunk: Sequence[Prepared]) -> None:
        for k, n in enumerate(self._write(chunk)):
            self.counts[k] += n

    def finish(self) -> tuple[int, int, int]:
        added, updated, unchanged = self.counts
        return added, updated, unchanged


class _CountedWriter(ChunkWriter):
    """For kinds written with INSERT ... ON CONFLICT: rows are counted once, before and after
    the whole import (a count(*) per chunk would read the table again and again)."""

    def __init__(self, db: Database, table: str, write: Any) -> None:
        super().__init__(write)
        self.db, self.table = db, table
        self.before = self._count()
        self.rows = 0

    def _count(self) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM {self.table}").fetchone()[0])

    def write(self, chunk: Sequence[Prepared]) -> None:
        self._write(chunk)
        self.rows += len(chunk)

    def finish(self) -> tuple[int, int, int]:
        added = self._count() - self.before
        return added, 0, self.rows - added


def _shorten(text: str, limit: int = 40) -> str:
    """A cell quoted in a message, cut short: a 5,000-character cell would drown the report."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def _blank_to_none(values: dict[str, str]) -> dict[str, Any]:
    return {k: (v.strip() or None) for k, v in values.items()}


def _missing_episodes(
    prepared: list[Prepared], ctx: RowContext, episode_of: Any = None
) -> list[tuple[Prepared | None, ValidationError]]:
    """The rows whose episode is not on file; ``episode_of(row)`` gives the episode, by
    default the first part of the row's key (read without a call per row)."""
    if episode_of is None:
        wanted = {key[0] for key in map(_KEY, prepared)}
        episode_of = _first_of_key
    else:
        wanted = set(map(episode_of, prepared))
    wanted.discard(None)
    wanted.discard("")
    if not wanted:
        return []
    # One query answers with the missing ids only (most files name none); the ids travel as
    # one JSON array instead of 900 parameters at a time.
    missing = {row[0] for row in ctx.db.execute(
        "SELECT value FROM json_each(?) WHERE value NOT IN (SELECT id FROM episodes)",
        [json.dumps(list(wanted))])}
    if not missing:
        return []
    return [
        (p, ValidationError(f"episode {episode_of(p)!r} is not on file; import its referral "
                            "first.", field="episode_id"))
        for p in prepared if episode_of(p) in missing
    ]


_KEY = operator.attrgetter("key")


def _first_of_key(item: Prepared) -> Any:
    return item.key[0]


class PartnersKind(ImportKind):
    name = "partners"
    table = "partners"
    columns = (
        Column("name", ("partner", "provider", "physician", "full_name")),
        Column("npi", ("partner_npi",)),
        Column("kind", ("type", "specialty", "partner_kind")),
        Column("organization", ("organisation", "practice", "org", "group")),
        Column("phone", ("telephone", "phone_number")),
        Column("fax", ("fax_number",)),
        Column("email", ("e_mail",)),
        Column("address", ("street", "address1", "address_line_1")),
        Column("city",),
        Column("state",),
        Column("zip", ("zip_code", "postal_code", "zipcode")),
        Column("stage",),
        Column("preferred_contact", ("contact_method", "preferred_channel")),
        Column("tags",),
        Column("notes", ("note", "comments")),
    )
    required = (("name",), ("kind",))
    key_description = "partner (NPI or name)"

    def prepare(self, values: dict[str, str], ctx: RowContext) -> Prepared:
        data = _blank_to_none(values)
        tags = data.pop("tags", None)
        data["tags"] = [t.strip() for t in tags.split(";") if t.strip()] if tags else []
        partner = validate(Partner, {k: v for k, v in data.items() if v is not None
                                     or k == "tags"})
        key = ("npi", partner.npi) if partner.npi else ("name", partner.name.casefold())
        return Prepared(key, partner)

    def write(self, db: Database, prepared: Sequence[Prepared]) -> tuple[int, int, int]:
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        for outcome in save_partners(db, [item.payload for item in prepared]):
            counts[outcome] += 1
        return counts["added"], counts["updated"], counts["unchanged"]


# --------------------------------------------------------------------------- clinical content
# The clinical content of an episode (issue 12), imported with its referral. Kept in one block
# so that other episode columns can be added above without touching it. Every cell goes through
# models.ClinicalContent, the model network.clinical.update_clinical validates with: one rule
# set for the dashboard, the command line and both import engines.

CLINICAL_IMPORT_COLUMNS = (
    Column("history", ("relevant_history", "past_history")),
    Column("findings", ("objective_findings", "objective", "exam_findings")),
    Column("treatment", ("treatment_given",)),
    Column("plan", ("plan_of_care", "poc")),
    Column("plan_frequency", ("frequency",)),
    Column("plan_duration", ("duration",)),
    Column("plan_interventions", ("interventions",)),
    Column("referral_question",),
    Column("precautions", ("contraindications",)),
    Column("physician_follow_up", ("physician_follow_up_date", "md_follow_up")),
    Column("poc_sent_date", ("plan_of_care_sent", "poc_sent")),
    Column("poc_certified_date", ("plan_of_care_certified", "poc_certified")),
    Column("poc_certified_by", ("certified_by", "certification")),
)
CLINICAL_EXTRAS = tuple(k for k in ClinicalContent.model_fields if k not in Episode.model_fields)
"""The clinical columns the Episode record does not carry: written by save_clinical_columns."""
CERTIFIED_WITHOUT_DATE = "give the date the plan of care was certified."
CERTIFIED_WITHOUT_HOW = ("say how the plan of care was certified: signed (the signed plan came "
                         "back) or order on file.")


def _clinical(data: dict[str, Any]) -> dict[str, Any]:
    """Take the clinical cells the Episode record does not carry out of ``data`` (blanks
    already None): the Episode record refuses fields it does not know."""
    return {k: data.pop(k) for k in CLINICAL_EXTRAS if data.get(k) is not None}


def _clinical_values(extras: dict[str, Any], ctx: RowContext
                     ) -> dict[str, Any]:
    """Validate the row's clinical cells as update_clinical does, after the Episode (so a row
    wrong in both ways is reported as before these columns existed); return them as column ->
    stored value. The clinical fields the Episode carries (onset_date, chief_complaint,
    diagnosis, findings, treatment, plan) were checked by the Episode with the same validators
    (models.Note, Icd10 and the onset date's range are shared by both models)."""
    if not extras:
        return {}
    # A file row is a whole record: how and when the plan was certified come together, with
    # update_clinical's words (which also takes either from what is on file).
    if extras.get("poc_certified_date") and not extras.get("poc_certified_by"):
        raise ValidationError(CERTIFIED_WITHOUT_HOW, field="poc_certified_by")
    content = validate(ClinicalContent, extras, today=ctx.today)
    if content.poc_certified_by and not content.poc_certified_date:
        raise ValidationError(CERTIFIED_WITHOUT_DATE, field="poc_certified_date")
    out: dict[str, Any] = {}
    for key in CLINICAL_EXTRAS:
        value = getattr(content, key)
        if value is not None:
            out[key] = value.isoformat() if isinstance(value, date) else value
    return out


def save_clinical_columns(db: Database, items: Sequence[tuple[str, dict[str, Any]]]
                          ) -> set[str]:
    """Write the clinical columns the Episode record does not carry, for episodes already saved
    in this transaction: each given value that differs from the stored one (a blank cell leaves
    the stored value, as for every referral column). Return the ids of the episodes changed."""
    if not items:
        return set()
    stored: dict[str, tuple[Any, ...]] = {}
    ids = list(dict.fromkeys(episode_id for episode_id, _ in items))
    columns = ", ".join(CLINICAL_EXTRAS)
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for row in db.execute(f"SELECT id, {columns} FROM episodes"
                              f" WHERE id IN ({', '.join('?' for _ in chunk)})", chunk):
            stored[row[0]] = row[1:]
    at = {k: n for n, k in enumerate(CLINICAL_EXTRAS)}
    now = now_iso()
    changed: set[str] = set()
    for episode_id, values in items:
        old = stored[episode_id]
        changes = {k: v for k, v in values.items() if old[at[k]] != v}
        if changes:
            db.execute(f"UPDATE episodes SET {', '.join(f'{k} = ?' for k in changes)},"
                       " updated_at = ? WHERE id = ?", [*changes.values(), now, episode_id])
            changed.add(episode_id)
    return changed


class ReferralsKind(ImportKind):
    name = "referrals"
    table = "episodes"
    columns = (
        Column("episode_id", ("episode", "case_id", "case")),
        Column("patient_id", ("record_number", "mrn", "patient", "chart_number", "account")),
        Column("partner_npi", ("referrer_npi", "referring_npi")),
        Column("partner", ("referrer", "referring_provider", "partner_name")),
        Column("referral_date", ("referred", "date_referred", "referral")),
        Column("body_region", ("region", "body_part")),
        Column("diagnosis", ("icd10", "icd_10", "dx", "diagnosis_code")),
        Column("first_visit_date", ("first_visit", "evaluation_date", "eval_date")),
        Column("discharge_date", ("discharged",)),
        Column("visits", ("visit_count", "number_of_visits")),
        Column("discharge_reason",),
        Column("clinician", ("therapist", "provider_name")),
        Column("patient_name", ("name",)),
        Column("birth_date", ("dob", "date_of_birth")),
        Column("sex", ("gender",)),
        Column("status",),
        Column("status_reason",),
        Column("scheduled_date", ("scheduled",)),
        Column("clinic", ("location", "site")),
        Column("onset_date", ("onset",)),
        Column("chief_complaint", ("complaint",)),
        # ---- Condition columns (issue 18): outcomes.measures.conditions checks them.
        Column("instrument", ("primary_measure", "primary_instrument"),
               "The episode's primary outcome measure, overriding its region's."),
        *CLINICAL_IMPORT_COLUMNS,
        Column("procedure", ("surgical_procedure", "operation", "surgery"),
               "A procedure from the vocabulary or one of its synonyms (TKA, THA, ACLR...)."),
        Column("surgical", ("post_op", "postop", "post_operative"),
               "yes or no; a named procedure implies yes."),
        # ---- End of the condition columns.
    )
    required = (("episode_id",), ("patient_id",), ("referral_date",), ("body_region",))
    key_description = "episode_id"

    def prepare(self, values: dict[str, str], ctx: RowContext) -> Prepared:
        data = _blank_to_none(values)
        partner_id = ctx.partner_id(values)
        patient = validate(Patient, {
            "record_number": data.get("patient_id"),
            "name": data.get("patient_name"),
            "birth_date": data.get("birth_date"),
            "sex": data.get("sex"),
        }, today=ctx.today)
        visits = data.get("visits")
        if visits is not None:
            # isdigit() alone accepts '²' and other digits int() refuses; a very long number
            # would make int() raise (over 4,300 digits) and is no visit count anyway.
            if not (visits.isascii() and visits.isdigit()):
                raise ValidationError(f"visits {_shorten(visits)} must be a whole number "
                                      "written with the digits 0-9.", field="visits")
            if len(visits) > 6:
                raise ValidationError(f"visits {_shorten(visits)} must be at most 1000.",
                                      field="visits")
            data["visits"] = int(visits)
        for col in ("patient_id", "patient_name", "birth_date", "sex", "partner_npi", "partner"):
            data.pop(col, None)
        extras = _clinical(data)
        data["id"] = data.pop("episode_id", None)
        data["patient_record_number"] = patient.record_number
        data["partner_id"] = partner_id
        normalize_conditions(data)  # procedure synonyms, the primary measure
        if data.get("instrument"):
            try:
                get_instrument(data["instrument"], catalog.instruments())
            except InstrumentError as exc:  # a row error like any other (and --skip-invalid)
                raise ValidationError(str(exc), field="instrument") from None
        episode = validate(Episode, {k: v for k, v in data.items() if v is not None},
                           today=ctx.today)
        return Prepared(episode.id, (patient, episode, _clinical_values(extras, ctx)))

    def bulk_writer(self, db: Database) -> ChunkWriter:
        seen: set[str] = set()  # record numbers written, across the chunks of one file

        def write(chunk: Sequence[Prepared]) -> tuple[int, int, int]:
            # write() applies the rule below within a chunk; across chunks, a later row that
            # would fill in nothing carries a blank identity (which fills in nothing either).
            items = []
            for item in chunk:
                patient = item.payload[0]
                if patient.record_number in seen and not (patient.name or patient.birth_date):
                    blank = Patient.model_construct(record_number=patient.record_number,
                                                    name=None, birth_date=None, sex=None)
                    item = Prepared(item.key, (blank, *item.payload[1:]), item.line,
                                    item.cells)
                seen.add(patient.record_number)
                items.append(item)
            return self.write(db, items)

        return ChunkWriter(write)

    def write(self, db: Database, prepared: Sequence[Prepared]) -> tuple[int, int, int]:
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        changed: set[str] = set()
        # The same result as save_patient/save_episode row by row, read and written in bulk.
        # A patient row after the first only fills in identity when it carries a name or birth
        # date (as the row-by-row import always did).
        seen: set[str] = set()
        patients = []
        for item in prepared:
            patient = item.payload[0]
            if patient.record_number not in seen or patient.name or patient.birth_date:
                patients.append(patient)
                seen.add(patient.record_number)
        patient_ids = save_patients(db, patients)
        results = save_episodes(db, [(episode, patient_ids[patient.record_number])
                                     for patient, episode, _ in (p.payload for p in prepared)])
        clinical_changed = save_clinical_columns(
            db, [(p.payload[1].id, p.payload[2]) for p in prepared if p.payload[2]])
        for result in results:
            outcome = result.outcome
            if outcome == "unchanged" and result.id in clinical_changed:
                outcome = "updated"
            counts[outcome] += 1
            if outcome == "updated":
                changed.add(result.id)
        if changed:
            outcome_summary.refresh(db, changed)
        return counts["added"], counts["updated"], counts["unchanged"]

class _InsertOnlyKind(ImportKind):
    """Kinds whose rows are only ever added (a repeated row is left as it is)."""

    appends_only = True
    insert_sql: ClassVar[str]

    def row(self, payload: Any, created_at: str) -> tuple[Any, ...]:
        raise NotImplementedError

    def write(self, db: Database, prepared: Sequence[Prepared]) -> tuple[int, int, int]:
        created = now_iso()
        before = db.execute(f"SELECT count(*) FROM {self.table}").fetchone()[0]
        db.conn.executemany(self.insert_sql, [self.row(p.payload, created) for p in prepared])
        added = db.execute(f"SELECT count(*) FROM {self.table}").fetchone()[0] - before
        return added, 0, len(prepared) - added

    def bulk_writer(self, db: Database) -> ChunkWriter:
        created = now_iso()
        row, sql = self.row, self.insert_sql
        # Where created_at goes in a row the compiled validator built (it leaves it out).
        columns = sql[sql.index("(") + 1:sql.index(")")].split(", ")
        at = columns.index("created_at")

        def write(chunk: Sequence[Prepared]) -> None:
            if at == len(columns) - 1:  # created_at last (touchpoints, nps): one concatenation
                stamp = (created,)
                db.conn.executemany(sql, [
                    row(p.payload, created) if p.row is None else p.row + stamp
                    for p in chunk])
                return
            db.conn.executemany(sql, [
                row(p.payload, created) if p.row is None else
                (*p.row[:at], created, *p.row[at:]) for p in chunk])

        return _CountedWriter(db, self.table, write)


class TouchpointsKind(_InsertOnlyKind):
    name = "touchpoints"
    table = "touchpoints"
    insert_sql = touchpoints.INSERT_SQL
    columns = (
        Column("partner_npi", ("npi",)),
        Column("partner", ("partner_name", "name")),
        Column("date", ("touch_date", "contact_date")),
        Column("method", ("type", "channel")),
        Column("who", ("staff", "by", "contact")),
        Column("summary", ("notes", "note", "description")),
        Column("amount", ("value", "cost", "spend")),
        Column("next_follow_up", ("follow_up", "next_follow_up_date", "followup")),
    )
    required = (("partner_npi", "partner"), ("date",), ("method",))
    key_description = "partner, date, method and summary"

    def prepare(self, values: dict[str, str], ctx: RowContext) -> Prepared:
        data = _blank_to_none(values)
        partner_id = ctx.partner_id(values)
        if partner_id is None:
            raise ValidationError("partner_npi or partner is required.", field="partner_npi")
        amount = data.get("amount")
        if amount is not None:
            try:
                data["amount"] = float(amount.replace("$", "").replace(",", ""))
            except ValueError:
                raise ValidationError(f"amount {amount!r} is not a number.",
                                      field="amount") from None
        data.pop("partner_npi", None)
        data.pop("partner", None)
        data["partner_id"] = partner_id
        data["summary"] = data.get("summary") or ""
        tp = validate(Touchpoint, {k: v for k, v in data.items() if v is not None},
                      today=ctx.today)
        return Prepared((tp.partner_id, tp.date, tp.method, tp.summary), tp)

    def row(self, payload: Any, created_at: str) -> tuple[Any, ...]:
        return touchpoints.row(payload, created_at)


class OutboundKind(_InsertOnlyKind):
    name = "outbound"
    table = "outbound_referrals"
    insert_sql = outbound.INSERT_SQL
    columns = (
        Column("episode_id", ("episode",)),
        Column("partner_npi", ("npi",)),
        Column("partner", ("partner_name", "name")),
        Column("date", ("referral_date",)),
        Column("reason", ("rationale", "clinical_rationale")),
        Column("question", ("clinical_question",)),
    )
    required = (("partner_npi", "partner"), ("date",), ("reason",))
    key_description = "episode, partner and date"

    def prepare(self, values: dict[str, str], ctx: RowContext) -> Prepared:
        data = _blank_to_none(values)
        partner_id = ctx.partner_id(values)
        if partner_id is None:
            raise ValidationError("partner_npi or partner is required.", field="partner_npi")
        ref = validate(OutboundReferral, {
            "partner_id": partner_id, "episode_id": data.get("episode_id"),
            "date": data.get("date"), "reason": data.get("reason"),
            "question": data.get("question"),
        }, today=ctx.today)
        return Prepared((ref.episode_id, ref.partner_id, ref.date), ref)

    def check_references(
        self, prepared: list[Prepared], ctx: RowContext
    ) -> list[tuple[Prepared | None, ValidationError]]:
        # The key starts with the episode, from either validator (the compiled one leaves
        # no payload).
        return _missing_episodes(prepared, ctx)

    def row(self, payload: Any, created_at: str) -> tuple[Any, ...]:
        return outbound.row(payload, created_at)


class NpsKind(_InsertOnlyKind):
    name = "nps"
    table = "nps_responses"
    insert_sql = nps.INSERT_SQL
    columns = (
        Column("episode_id", ("episode",)),
        Column("date", ("response_date",)),
        Column("score", ("nps", "rating", "likelihood")),
        Column("comment", ("comments", "feedback")),
    )
    required = (("date",), ("score",))
    key_description = "episode, date, score and comment"

    def prepare(self, values: dict[str, str], ctx: RowContext) -> Prepared:
        data = _blank_to_none(values)
        response = validate(NpsResponse, {
            "episode_id": data.get("episode_id"), "date": data.get("date"),
            "score": data.get("score"), "comment": values.get("comment", "").strip(),
        }, today=ctx.today)
        return Prepared((response.episode_id, response.date, response.score, response.comment),
                        response)

    def check_references(
        self, prepared: list[Prepared], ctx: RowContext
    ) -> list[tuple[Prepared | None, ValidationError]]:
        return _missing_episodes(prepared, ctx)  # as for outbound

    def row(self, payload: Any, created_at: str) -> tuple[Any, ...]:
        return nps.row(payload, created_at)


class GoalsKind(ImportKind):
    """Treatment goals, one row per goal: a goal already on file for the episode (same text)
    takes the row's target date and status, so a nightly re-import follows the EHR."""

    name = "goals"
    table = "episode_goals"
    columns = (
        Column("episode_id", ("episode",)),
        Column("goal", ("goal_text", "description")),
        Column("target_date", ("target", "due_date", "due")),
        Column("status", ("goal_status",), "open, met, partly met or not met (default open)."),
    )
    required = (("episode_id",), ("goal",))
    key_description = "episode and goal"

    def prepare(self, values: dict[str, str], ctx: RowContext) -> Prepared:
        data = _blank_to_none(values)
        goal = validate(Goal, {k: v for k, v in {
            "goal": values.get("goal", "").strip() or None,
            "target_date": data.get("target_date"), "status": data.get("status"),
        }.items() if v is not None}, today=ctx.today)
        episode_id = data.get("episode_id")
        if not episode_id:
            raise ValidationError("episode_id is required.", field="episode_id")
        return Prepared((episode_id, goal.goal), (episode_id, goal))

    def check_references(
        self, prepared: list[Prepared], ctx: RowContext
    ) -> list[tuple[Prepared | None, ValidationError]]:
        return _missing_episodes(prepared, ctx, lambda p: p.payload[0])

    def _write(self, db: Database, chunk: Sequence[Prepared]) -> tuple[int, int, int]:
        created = now_iso()
        added = updated = 0
        for p in chunk:
            episode_id, goal = p.payload
            target = goal.target_date.isoformat() if goal.target_date else None
            found = db.execute("SELECT target_date, status FROM episode_goals"
                               " WHERE episode_id = ? AND goal = ?", [episode_id, goal.goal]
                               ).fetchone()
            if found is None:
                db.execute("INSERT INTO episode_goals (episode_id, goal, target_date, status,"
                           " created_at) VALUES (?, ?, ?, ?, ?)",
                           [episode_id, goal.goal, target, goal.status, created])
                added += 1
            elif tuple(found) != (target, goal.status):
                db.execute("UPDATE episode_goals SET target_date = ?, status = ?"
                           " WHERE episode_id = ? AND goal = ?",
                           [target, goal.status, episode_id, goal.goal])
                updated += 1
        return added, updated, len(chunk) - added - updated

    def write(self, db: Database, prepared: Sequence[Prepared]) -> tuple[int, int, int]:
        return self._write(db, prepared)

    def bulk_writer(self, db: Database) -> ChunkWriter:
        return ChunkWriter(lambda chunk: self._write(db, chunk))


class ResponsesKind(ImportKind):
    name = "responses"
    table = "responses"
    columns = (
        Column("episode_id", ("episode",)),
        Column("instrument", ("measure", "survey")),
        Column("timepoint", ("time_point", "visit_type")),
        Column("date", ("response_date", "completed")),
        Column("answers", ("items", "item_answers")),
        Column("score", ("total", "total_score")),
    )
    required = (("episode_id",), ("instrument",), ("timepoint",), ("date",),
                ("answers", "score"))
    key_description = "episode, instrument, timepoint and date"

    def __init__(self) -> None:
        # Timepoint spellings already normalised (a pure lookup, kept across rows and imports).
        self._timepoints: dict[str, str] = {}

    def prepare(self, values: dict[str, str], ctx: RowContext) -> Prepared:
        data = _blank_to_none(values)
        episode_id = data.get("episode_id")
        if not episode_id:
            raise ValidationError("episode_id is required.", field="episode_id")
        try:
            instrument = get_instrument((data.get("instrument") or "").lower(),
                                        catalog.instruments())
        except ValidationError:
            raise
        except Exception as exc:
            raise ValidationError(str(exc), field="instrument") from None
        spelled = data.get("timepoint") or ""
        timepoint = self._timepoints.get(spelled)
        if timepoint is None:
            try:
                timepoint = TIMEPOINTS.normalize(spelled)
            except ValidationError as exc:
                raise ValidationError(str(exc), field="timepoint") from None
            if len(self._timepoints) < 1000:
                self._timepoints[spelled] = timepoint
        try:
            when = parse_date(data.get("date") or "", field="date", reference=ctx.today)
        except ValidationError as exc:
            raise ValidationError(str(exc), field="date") from None
        answers_text, score_text = data.get("answers"), data.get("score")
        if answers_text and score_text:
            raise ValidationError("give answers or score, not both.", field="score")
        try:
            if answers_text:
                answers = responses.parse_answers(answers_text.split(";"))
                item = responses.prepare(instrument, episode_id, timepoint, when, answers)
            elif score_text:
                try:
                    total = float(score_text)
                except ValueError:
                    raise ValidationError(f"score {score_text!r} is not a number.") from None
                item = responses.prepare(instrument, episode_id, timepoint, when, total=total)
            else:
                raise ValidationError("answers or score is required.")
        except ValidationError as exc:
            field_name = exc.field or ("answers" if answers_text else "score")
            raise ValidationError(str(exc), field=field_name) from None
        return Prepared((episode_id, instrument.id, timepoint, when), item)

    def check_references(
        self, prepared: list[Prepared], ctx: RowContext
    ) -> list[tuple[Prepared | None, ValidationError]]:
        return _missing_episodes(prepared, ctx, lambda p: p.payload.episode_id)

    def write(self, db: Database, prepared: Sequence[Prepared]) -> tuple[int, int, int]:
        before = db.execute("SELECT count(*) FROM responses").fetchone()[0]
        changes_before = db.conn.total_changes
        created = now_iso()
        db.conn.executemany(responses.INSERT_SQL,
                            [(*p.payload.row(), created) for p in prepared])
        touched = db.conn.total_changes - changes_before
        added = db.execute("SELECT count(*) FROM responses").fetchone()[0] - before
        outcome_summary.refresh(db, {p.payload.episode_id for p in prepared})
        updated = touched - added
        return added, updated, len(prepared) - added - updated

    def bulk_writer(self, db: Database) -> ChunkWriter:
        created = now_iso()
        writer: _ResponsesWriter

        def write(chunk: Sequence[Prepared]) -> None:
            before = db.conn.total_changes
            db.conn.executemany(responses.INSERT_SQL,
                                [(*p.payload.row(), created) for p in chunk])
            writer.touched += db.conn.total_changes - before
            # Refreshed per chunk: an episode whose responses span two chunks is refreshed
            # twice, the second time from all of them.
            outcome_summary.refresh(db, {p.payload.episode_id for p in chunk})

        writer = _ResponsesWriter(db, self.table, write)
        return writer


class _ResponsesWriter(_CountedWriter):
    """Counts as ResponsesKind.write does: changes made by the upsert itself, not the summary."""

    touched = 0

    def finish(self) -> tuple[int, int, int]:
        added = self._count() - self.before
        updated = self.touched - added
        return added, updated, self.rows - added - updated


KINDS: dict[str, ImportKind] = {
    kind.name: kind
    for kind in (PartnersKind(), ReferralsKind(), TouchpointsKind(), OutboundKind(),
                 ResponsesKind(), NpsKind(), GoalsKind())
}
