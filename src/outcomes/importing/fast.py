"""Row validators compiled once per file, for the bulk import.

Each kind's ``prepare`` (pydantic models, vocabulary folding, date parsing, scoring) is the
reference. A compiled validator does the same work for the common row with dicts, cached
parses and closures, and gives up (returns None) on anything it is not sure of: the caller then
runs the kind's own ``prepare`` on that row, which stores the same thing or words the error.
So the bulk path can be faster than the reference but never different from it; a differential
property test (tests/importing/test_bulk_differential.py) holds them together.

One module because each compiled validator mirrors one kind's ``prepare`` and they share the
cached parsers (dates, vocabularies, conditions): a reviewer compares them side by side.
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from outcomes.dates import (
    EARLIEST_BIRTH_DATE,
    EARLIEST_CARE_DATE,
    FUTURE_LIMIT,
    parse_date,
    today,
)
from outcomes.errors import ValidationError
from outcomes.importing.kinds import CLINICAL_EXTRAS, ImportKind, Prepared, RowContext
from outcomes.measures import catalog, responses
from outcomes.measures.conditions import conditions
from outcomes.models import (
    ADDRESS_MAX,
    CITY_MAX,
    CODE_MAX,
    EMAIL_MAX,
    EMAIL_RE,
    ICD10_RE,
    NAME_MAX,
    NOTE_MAX,
    PHONE_MAX,
    REASON_MAX,
    SHORT_MAX,
    STATE_RE,
    TAG_MAX,
    TAGS_MAX,
    ZIP_RE,
    ClinicalContent,
    Episode,
    Goal,
    Partner,
    Patient,
    validate,
)
from outcomes.npi import validate_npi
from outcomes.text import find_control
from outcomes.vocab import (
    BODY_REGIONS,
    CHANNELS,
    DISCHARGE_REASONS,
    EPISODE_STATUSES,
    PARTNER_KINDS,
    STAGES,
    TIMEPOINTS,
    TOUCH_METHODS,
    Vocabulary,
)

Fast = Callable[[list[str]], Prepared | None]

_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_US = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_AMOUNT = re.compile(r"[0-9]{1,9}(\.[0-9]{1,6})?")
_CACHE_LIMIT = 20_000  # distinct spellings remembered per column (dates: 8 years = 3,000)


class Dates:
    """Dates parsed once per spelling: ISO and US forms directly, anything else by
    ``parse_date`` itself; a spelling that fails is never cached (the caller falls back)."""

    def __init__(self, reference: date | None, earliest: date = EARLIEST_CARE_DATE) -> None:
        self.reference = reference or today()
        self.earliest = earliest
        self._past: dict[str, date] = {}
        self._any: dict[str, date] = {}
        self._past_iso: dict[str, tuple[date, str]] = {}
        self._any_iso: dict[str, tuple[date, str]] = {}

    def _parse(self, text: str) -> date | None:
        try:
            if _ISO.fullmatch(text):
                found = date.fromisoformat(text)
            else:
                us = _US.fullmatch(text)
                if us:
                    month, day, year = (int(g) for g in us.groups())
                    found = date(year, month, day)
                else:
                    found = parse_date(text, allow_future=True)
        except (ValueError, ValidationError):  # ValidationError is a ValueError too
            return None
        # Only dates inside every field's plausible range are decided here; the rest (a birth
        # date before 1990, the zero date, a follow-up years ahead) go to the models, which
        # know each field's range and say which one was broken.
        if not self.earliest <= found <= self.reference + FUTURE_LIMIT:
            return None
        return found

    def past(self, text: str) -> date | None:
        """A date not after the reference day, or None."""
        found = self._past.get(text)
        if found is None:
            found = self._parse(text)
            if found is None or found > self.reference:
                return None
            if len(self._past) < _CACHE_LIMIT:
                self._past[text] = found
        return found

    def any(self, text: str) -> date | None:
        found = self._any.get(text)
        if found is None:
            found = self._parse(text)
            if found is None:
                return None
            if len(self._any) < _CACHE_LIMIT:
                self._any[text] = found
        return found

    def past_iso(self, cell: str) -> tuple[date, str] | None:
        """``past`` of the cell stripped, with its ISO text (what the row stores), remembered
        per cell as it stands in the file: no strip and no ``isoformat`` per row."""
        return _with_iso(self._past_iso, self.past, cell)

    def any_iso(self, cell: str) -> tuple[date, str] | None:
        """``any`` of the cell stripped, with its ISO text, as ``past_iso``."""
        return _with_iso(self._any_iso, self.any, cell)


def _with_iso(seen: dict[str, tuple[date, str]], parse: Callable[[str], date | None],
              cell: str) -> tuple[date, str] | None:
    found = seen.get(cell)
    if found is None:
        when = parse(cell.strip())
        if when is None:
            return None
        found = (when, when.isoformat())
        if len(seen) < _CACHE_LIMIT:
            seen[cell] = found
    return found


class Words:
    """A vocabulary as a dict of the spellings seen so far (canonical value, or None)."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._seen: dict[str, str] = {}

    def get(self, text: str) -> str | None:
        found = self._seen.get(text)
        if found is None:
            try:
                found = self.vocabulary.normalize(text)
            except ValidationError:
                return None
            if len(self._seen) < _CACHE_LIMIT:
                self._seen[text] = found
        return found


def _diagnosis(cache: dict[str, str]) -> Callable[[str], str | None]:
    def code(text: str) -> str | None:
        found = cache.get(text)
        if found is None:
            upper = text.upper()
            if not ICD10_RE.match(upper):
                return None
            found = f"{upper[:3]}.{upper[3:]}" if "." not in upper and len(upper) > 3 else upper
            if len(cache) < _CACHE_LIMIT:
                cache[text] = found
        return found

    return code


class _Light:
    """A record with the attributes of a pydantic model and none of its cost: the writers only
    read attributes (and ``model_fields_set``, as pydantic's own)."""

    @property
    def model_fields_set(self) -> set[str]:
        return set(self.__dict__)


def light(model: Any) -> Callable[[dict[str, Any]], Any]:
    """A constructor of light records for ``model``: fields given -> record. Unset fields read
    as the model's defaults, as after ``model_validate``."""
    defaults = {name: info.get_default(call_default_factory=True)
                for name, info in model.model_fields.items() if not info.is_required()}
    cls = type(f"Light{model.__name__}", (_Light,), defaults)
    new = object.__new__

    def make(fields: dict[str, Any]) -> Any:
        record: Any = new(cls)
        record.__dict__ = fields
        return record

    return make


_PATIENT, _EPISODE = light(Patient), light(Episode)
_PARTNER = light(Partner)
_GOAL = light(Goal)


def _getter(positions: dict[str, int], names: tuple[str, ...]
            ) -> Callable[[list[str]], tuple[str, ...]]:
    """The cells of ``names`` as they stand (not stripped), "" for a column the file lacks:
    one C call per row when the file has them all."""
    places = [positions.get(name) for name in names]
    if len(places) > 1 and None not in places:
        return operator.itemgetter(*places)

    def cells_of(cells: list[str]) -> tuple[str, ...]:  # a column missing: rare
        return tuple("" if at is None else cells[at] for at in places)

    return cells_of


def _cell(positions: dict[str, int], name: str) -> Callable[[list[str]], str]:
    """The stripped cell of a column, or "" when the file has no such column."""
    at = positions.get(name)
    if at is None:
        return lambda cells: ""
    return lambda cells: cells[at].strip()


def compile_kind(kind: ImportKind, ctx: RowContext, positions: dict[str, int]) -> Fast | None:
    """The compiled validator for ``kind`` (column name -> position in the file), or None when
    the kind has none."""
    builders: dict[str, Callable[[RowContext, dict[str, int]], Fast]] = {
        "referrals": _referrals, "responses": _responses, "touchpoints": _touchpoints,
        "outbound": _outbound, "nps": _nps, "goals": _goals,
    }
    if kind.name == "partners":
        return _partners(positions)  # checks its whole row itself (a few hundred rows)
    builder = builders.get(kind.name)
    if builder is None:
        return None
    if kind.name in _SELF_GUARDED:
        return builder(ctx, positions)
    return _guarded(builder(ctx, positions), positions)


# Kinds whose compiled validator checks every stored cell's length by its field's own limit and
# looks at the row itself first: for the common row (every cell printable, so no control
# character anywhere, and none that may be one of our neutralised exports) it needs no look at
# each cell; any other row goes through _guarded's cell-by-cell look to the same rules.
_SELF_GUARDED = frozenset({"nps", "touchpoints"})
_MISSING = object()


# Free-text columns are stored as typed (control characters included) up to a cap of at least
# REASON_MAX; every other column refuses control characters and is at most SHORT_MAX long in
# the common case. A row outside those bounds is left to the models, which know each field's
# exact rule and word the error.
_FREE_TEXT = frozenset({"comment", "summary", "reason", "notes", "note", "chief_complaint",
                        "status_reason", "findings", "treatment", "plan", "history",
                        "plan_interventions", "referral_question", "precautions", "goal"})


# A partner's name is only looked up, never stored from the cell: a long one is no reason to
# leave the compiled path (one that matches no partner is refused there all the same).
_LOOKED_UP = frozenset({"partner"})


def _guarded(fast: Fast, positions: dict[str, int]) -> Fast:
    free = {at for name, at in positions.items() if name in _FREE_TEXT or name in _LOOKED_UP}
    pickers: dict[int, tuple[Callable[[list[str]], Any], Callable[[list[str]], Any]]] = {}

    def precise(cells: list[str]) -> bool:
        # Cell by kind: one search for a control character in the one-line cells joined (the
        # comma joining them is none), the free-text cells only for their length.
        split = pickers.get(len(cells))
        if split is None:
            split = pickers[len(cells)] = (
                _picker([at for at in range(len(cells)) if at not in free]),
                _picker([at for at in range(len(cells)) if at in free]))
        line_cells, free_cells = split[0](cells), split[1](cells)
        return not (max(map(len, line_cells), default=0) > SHORT_MAX or
                    find_control(",".join(line_cells)) is not None or
                    max(map(len, free_cells), default=0) > REASON_MAX)

    def run(cells: list[str]) -> Prepared | None:
        # The common row is decided in C: every cell short, no control character anywhere, no
        # cell that may be one of our neutralised exports (starting with ', or with ' after a
        # newline inside it: those take the general path, which undoes the neutralising).
        joined = ",".join(cells)
        if max(map(len, cells), default=0) <= SHORT_MAX and find_control(joined) is None:
            # (a cell holding ",'" only costs the look at each cell)
            if (joined[:1] == "'" or ",'" in joined) and any(c[:1] == "'" for c in cells):
                return None
            return fast(cells)
        if any(c[:1] == "'" for c in cells) or "\n'" in joined or not precise(cells):
            return None
        return fast(cells)

    return run


def _picker(places: list[int]) -> Callable[[list[str]], Any]:
    """The cells at ``places``, as a sequence (itemgetter returns a bare cell for one place)."""
    if not places:
        return lambda cells: ()
    if len(places) == 1:
        place = places[0]
        return lambda cells: (cells[place],)
    return operator.itemgetter(*places)


def _partner(ctx: RowContext, positions: dict[str, int]) -> Callable[[list[str]], Any]:
    """Partner id from partner_npi or partner, None when neither is given, False when the
    reference is bad (the general path words the error)."""
    npi_at, name_at = positions.get("partner_npi"), positions.get("partner")
    by_cells = _partner_of(ctx, positions)

    def partner(cells: list[str]) -> Any:
        return by_cells(cells[npi_at] if npi_at is not None else "",
                        cells[name_at] if name_at is not None else "")

    return partner


def _partner_of(ctx: RowContext, positions: dict[str, int],
                seen: dict[tuple[str, str], Any] | None = None) -> Callable[[str, str], Any]:
    """``_partner`` given the partner_npi and partner cells ("" for a column the file
    lacks); ``seen``: where the answers are remembered, by (npi, name) cells."""
    npi_at, name_at = positions.get("partner_npi"), positions.get("partner")
    # A network has a few hundred partners: each spelling of one is resolved once.
    seen = {} if seen is None else seen

    def partner(npi: str, name: str) -> Any:
        found = seen.get((npi, name), seen)
        if found is not seen:
            return found
        values = {}
        if npi_at is not None:
            values["partner_npi"] = npi
        if name_at is not None:
            values["partner"] = name
        try:
            found = ctx.partner_id(values)
        except ValidationError:
            found = False
        if len(seen) < _CACHE_LIMIT:
            seen[(npi, name)] = found
        return found

    return partner


def _referrals(ctx: RowContext, positions: dict[str, int]) -> Fast:
    dates = Dates(ctx.today)
    region_of, status_of = Words(BODY_REGIONS).get, Words(EPISODE_STATUSES).get
    reason_of = Words(DISCHARGE_REASONS).get
    diagnosis = _diagnosis({})
    partner = _partner(ctx, positions)
    known = catalog.instruments()
    at = positions.get
    i_episode, i_patient, i_referral = at("episode_id"), at("patient_id"), at("referral_date")
    i_region = at("body_region")
    # Optional columns present in this file, each with how its cell becomes a value (None:
    # the cell is refused and the general path words why).
    optional: list[tuple[str, int, Callable[[str], Any]]] = []
    for name, convert in (
        ("first_visit_date", dates.past), ("discharge_date", dates.past),
        ("onset_date", dates.past), ("scheduled_date", dates.any), ("diagnosis", diagnosis),
        ("status", status_of), ("discharge_reason", reason_of), ("visits", _visits),
        ("status_reason", str), ("clinician", str), ("clinic", str),
        ("chief_complaint", str),
        ("instrument", lambda text: text if text in known and text != "nps" else None),
        ("findings", str), ("treatment", str), ("plan", str),
        # Condition columns: an unknown procedure or surgical flag goes to the general path.
        ("procedure", _remembered(conditions().find_procedure, _CACHE_LIMIT)),
        ("surgical", lambda text: _SURGICAL.get(text.lower())),
    ):
        if name in positions:
            optional.append((name, positions[name], convert))
    clinical = _clinical_columns(dates, positions)
    i_name, i_birth, i_sex = at("patient_name"), at("birth_date"), at("sex")
    # Birth dates have their own range (Patient: from EARLIEST_BIRTH_DATE): most patients were
    # born before the first date of care.
    birth_of = Dates(ctx.today, EARLIEST_BIRTH_DATE).past
    if i_episode is None or i_patient is None or i_referral is None or i_region is None:
        return lambda cells: None  # map_header has refused such a file already
    make_patient, make_episode = _PATIENT, _EPISODE

    def fast(cells: list[str]) -> Prepared | None:
        episode_id, record = cells[i_episode].strip(), cells[i_patient].strip()
        referral = dates.past(cells[i_referral].strip())
        region = region_of(cells[i_region].strip())
        if not episode_id or not record or referral is None or region is None:
            return None
        partner_id = partner(cells)
        if partner_id is False:
            return None
        birth = None
        if i_birth is not None:
            text = cells[i_birth].strip()
            if text:
                birth = birth_of(text)
                if birth is None:
                    return None
        patient = make_patient({
            "record_number": record,
            "name": (cells[i_name].strip() or None) if i_name is not None else None,
            "birth_date": birth,
            "sex": (cells[i_sex].strip() or None) if i_sex is not None else None})
        fields: dict[str, Any] = {"id": episode_id, "patient_record_number": record}
        if partner_id is not None:
            fields["partner_id"] = partner_id
        fields["referral_date"], fields["body_region"] = referral, region
        converted = _cells(cells, optional)
        if converted is None:
            return None
        fields.update(converted)
        # Episode's cross-field rules: when one fails, the general path says which.
        first, discharged = fields.get("first_visit_date"), fields.get("discharge_date")
        if first is not None and first < referral:
            return None
        if discharged is not None and discharged < (first or referral):
            return None
        if fields.get("status") in ("not_scheduled", "cancelled") and \
                "status_reason" not in fields:
            return None
        extras = _cells(cells, clinical)
        if extras is None:
            return None
        # How and when the plan of care was certified come together; else the general path
        # says which is missing.
        if ("poc_certified_date" in extras) != ("poc_certified_by" in extras):
            return None
        if fields.get("procedure") and fields.get("surgical") is False:
            return None
        return Prepared(episode_id, (patient, make_episode(fields), extras))

    return fast


def _cells(cells: list[str], columns: list[tuple[str, int, Callable[[str], Any]]]
           ) -> dict[str, Any] | None:
    """The non-blank cells of ``columns`` converted, or None when one does not convert (the
    general path then says why)."""
    out: dict[str, Any] = {}
    for name, place, convert in columns:
        text = cells[place].strip()
        if text:
            value = convert(text)
            if value is None:
                return None
            out[name] = value
    return out


def _clinical_columns(dates: Dates, positions: dict[str, int]
                      ) -> list[tuple[str, int, Callable[[str], Any]]]:
    """The clinical columns the Episode record does not carry (kinds.CLINICAL_EXTRAS), present
    in this file, each with how its cell becomes the stored value (None: the general path
    decides). Free text is stored as typed: _guarded sends a cell over REASON_MAX there."""
    def iso(parse: Callable[[str], date | None]) -> Callable[[str], str | None]:
        def convert(text: str) -> str | None:
            found = parse(text)
            return None if found is None else found.isoformat()
        return convert

    certification = _certification({})
    converts: dict[str, Callable[[str], Any]] = {
        "history": str, "plan_frequency": str, "plan_duration": str,
        "plan_interventions": str, "referral_question": str, "precautions": str,
        "physician_follow_up": iso(dates.any), "poc_sent_date": iso(dates.past),
        "poc_certified_date": iso(dates.past), "poc_certified_by": certification,
    }
    assert set(converts) == set(CLINICAL_EXTRAS), "a clinical column without a fast rule"
    return [(name, positions[name], converts[name]) for name in CLINICAL_EXTRAS
            if name in positions]


def _certification(cache: dict[str, str]) -> Callable[[str], str | None]:
    """How a plan of care was certified, by the model's own rule (ClinicalContent), once per
    spelling."""
    def convert(text: str) -> str | None:
        found = cache.get(text)
        if found is None:
            try:
                found = validate(ClinicalContent, {"poc_certified_by": text}).poc_certified_by
            except ValidationError:
                return None
            if found is None:
                return None
            if len(cache) < _CACHE_LIMIT:
                cache[text] = found
        return found

    return convert
# What pydantic reads as a boolean (the general path), lower-cased; anything else is refused
# there with its message.
_SURGICAL = {word: value for value, words in (
    (True, ("1", "on", "t", "true", "y", "yes")), (False, ("0", "f", "false", "n", "no", "off")))
    for word in words}


def _visits(text: str) -> int | None:
    if not (text.isascii() and text.isdigit() and len(text) <= 4):
        return None
    count = int(text)
    return count if count <= 1000 else None


def _responses(ctx: RowContext, positions: dict[str, int]) -> Fast:
    past = Dates(ctx.today).past
    timepoint_of = Words(TIMEPOINTS).get
    known = catalog.instruments()
    scorers: dict[str, Any] = {}
    totals: dict[str, Any] = {}
    at = positions.get
    i_episode, i_instrument = at("episode_id"), at("instrument")
    i_timepoint, i_date, i_answers, i_score = at("timepoint"), at("date"), at("answers"), \
        at("score")
    if i_episode is None or i_instrument is None or i_timepoint is None or i_date is None:
        return lambda cells: None  # map_header has refused such a file already
    make = responses.PreparedResponse

    def fast(cells: list[str]) -> Prepared | None:
        episode_id = cells[i_episode].strip()
        instrument = known.get(cells[i_instrument].strip().lower())
        timepoint = timepoint_of(cells[i_timepoint].strip())
        when = past(cells[i_date].strip())
        if not episode_id or instrument is None or timepoint is None or when is None:
            return None
        answers_text = cells[i_answers].strip() if i_answers is not None else ""
        score_text = cells[i_score].strip() if i_score is not None else ""
        iid = instrument.id
        if answers_text and not score_text:
            scorer = scorers.get(iid)
            if scorer is None:
                scorer = scorers[iid] = _remembered(responses.compile_scorer(instrument))
            scored = scorer(answers_text)
            if scored is None:
                return None
            answers, scores, scorable, reason, encoded = scored
            item = make(episode_id, iid, instrument.version, timepoint, when, answers, scores,
                        scorable, reason, False, encoded)
        elif score_text and not answers_text:
            total = totals.get(iid)
            if total is None:
                total = totals[iid] = _remembered(_encoded_total(instrument))
            found = total(score_text)
            if found is None:
                return None
            scores, scores_json = found
            item = make(episode_id, iid, instrument.version, timepoint, when, None, scores,
                        True, None, True, (None, scores_json))
        else:
            return None
        return Prepared((episode_id, iid, timepoint, when), item)

    return fast


def _touchpoints(ctx: RowContext, positions: dict[str, int]) -> Fast:
    dates = Dates(ctx.today)
    past_iso, any_iso, past_seen = dates.past_iso, dates.any_iso, dates._past_iso
    methods = Words(TOUCH_METHODS)
    method_of, method_seen = methods.get, methods._seen
    partners: dict[tuple[str, str], Any] = {}
    partner_of = _partner_of(ctx, positions, partners)
    cells_of = _getter(positions, ("partner_npi", "partner", "date", "method", "who", "summary",
                                   "amount", "next_follow_up"))

    # The remembered answers are read here first (a dict look-up in C, not a call per cell);
    # each stored cell is checked against its field's own limit (Touchpoint: who a Name,
    # summary a Note), control characters by the look at the whole row (_SELF_GUARDED).
    def fast(cells: list[str], looked_at: bool = False) -> Prepared | None:
        if not looked_at:
            joined = ",".join(cells)
            if not joined.isprintable() or joined[:1] == "'" or ",'" in joined:
                return guarded(cells)
        npi, name, date_cell, method_cell, who, summary, amount, follow = cells_of(cells)
        partner_id = partners.get((npi, name), _MISSING)
        if partner_id is _MISSING:
            partner_id = partner_of(npi, name)
        found = past_seen.get(date_cell) or past_iso(date_cell)
        # The vocabulary folds case, spaces and punctuation away: the cell as it stands.
        method = method_seen.get(method_cell) or method_of(method_cell)
        if not partner_id or found is None or method is None:
            return None
        who, summary = who.strip(), summary.strip()
        if len(who) > NAME_MAX or len(summary) > NOTE_MAX:
            return None
        value = None
        amount = amount.strip()
        if amount:
            plain = amount.replace("$", "").replace(",", "")
            if not _AMOUNT.fullmatch(plain):
                return None
            value = float(plain)
            if value > 100_000:
                return None
        next_iso = None
        follow = follow.strip()
        if follow:
            follows = any_iso(follow)
            if follows is None:
                return None
            next_iso = follows[1]
        when, iso = found
        # The row touchpoints.row writes, without its created_at: no record in between.
        return Prepared((partner_id, when, method, summary), None,
                        row=(partner_id, iso, method, who or None, summary, value, next_iso))

    guarded = _guarded(functools.partial(fast, looked_at=True), positions)
    return fast


def _outbound(ctx: RowContext, positions: dict[str, int]) -> Fast:
    dates = Dates(ctx.today)
    partner = _partner(ctx, positions)
    episode_cell, date_cell = _cell(positions, "episode_id"), _cell(positions, "date")
    reason_cell, question_cell = _cell(positions, "reason"), _cell(positions, "question")

    def fast(cells: list[str]) -> Prepared | None:
        partner_id = partner(cells)
        when = dates.past(date_cell(cells))
        reason = reason_cell(cells)
        if not partner_id or when is None or not reason:
            return None
        episode_id = episode_cell(cells) or None
        # The row outbound.row writes, without its created_at.
        return Prepared((episode_id, partner_id, when), None,
                        row=(episode_id, partner_id, when.isoformat(), reason,
                             question_cell(cells) or None))

    return fast


# What NpsResponse reads as a score: one or two digits 0-9, at most 10.
_NPS_SCORES = {spelling: n for n in range(11) for spelling in (str(n), f"{n:02d}")}


def _nps(ctx: RowContext, positions: dict[str, int]) -> Fast:
    dates = Dates(ctx.today)
    past_iso, past_seen = dates.past_iso, dates._past_iso
    cells_of = _getter(positions, ("episode_id", "date", "score", "comment"))
    scores = _NPS_SCORES

    # As _touchpoints: remembered dates read here first; the stored cells checked against
    # their fields' own limits (NpsResponse: episode_id a Code, comment a Note), control
    # characters by the look at the whole row (_SELF_GUARDED).
    def fast(cells: list[str], looked_at: bool = False) -> Prepared | None:
        if not looked_at:
            joined = ",".join(cells)
            if not joined.isprintable() or joined[:1] == "'" or ",'" in joined:
                return guarded(cells)
        episode, date_cell, score, comment = cells_of(cells)
        found = past_seen.get(date_cell) or past_iso(date_cell)
        value = scores.get(score.strip())
        if found is None or value is None:
            return None
        episode_id, comment = episode.strip() or None, comment.strip()
        if (episode_id is not None and len(episode_id) > CODE_MAX) or len(comment) > NOTE_MAX:
            return None
        when, iso = found
        # The row nps.row writes, without its created_at.
        return Prepared((episode_id, when, value, comment), None,
                        row=(episode_id, iso, value, comment))

    guarded = _guarded(functools.partial(fast, looked_at=True), positions)
    return fast


# Cells remembered per instrument: a scored cell holds a list, a dict and two strings (about
# 700 bytes), so 20,000 per instrument would cost more memory than the rest of an import.
_SCORES_REMEMBERED = 1_000


def _remembered(convert: Callable[[str], Any], limit: int = _SCORES_REMEMBERED
                ) -> Callable[[str], Any]:
    """``convert`` (pure) remembered per cell text, for the first ``limit`` texts; a refusal
    (None) is not kept. Scored answers repeat (a pain scale has 11, a short form many
    repeats), as do a vocabulary's spellings. The records share the remembered lists and
    dicts, which nothing after validation changes: the writers read them."""
    seen: dict[str, Any] = {}

    def remembered(text: str) -> Any:
        found = seen.get(text)
        if found is None:
            found = convert(text)
            if found is not None and len(seen) < limit:
                seen[text] = found
        return found

    return remembered


def _encoded_total(instrument: Any) -> Callable[[str], tuple[dict[str, float | None], str] | None]:
    """A bare total's scores and their JSON, as ``PreparedResponse.row`` would write them."""
    total = responses.compile_total(instrument)

    def encoded(text: str) -> tuple[dict[str, float | None], str] | None:
        scores = total(text)
        return None if scores is None else (scores, json.dumps(scores))

    return encoded


def _goals(ctx: RowContext, positions: dict[str, int]) -> Fast:
    any_date = Dates(ctx.today).any
    episode_cell, goal_cell = _cell(positions, "episode_id"), _cell(positions, "goal")
    target_cell, status_cell = _cell(positions, "target_date"), _cell(positions, "status")
    status_of = _goal_status({})
    construct = _GOAL

    def fast(cells: list[str]) -> Prepared | None:
        episode_id, goal = episode_cell(cells), goal_cell(cells)
        if not episode_id or not goal or len(goal) > REASON_MAX:
            return None
        fields: dict[str, Any] = {"goal": goal}
        target = target_cell(cells)
        if target:
            when = any_date(target)
            if when is None:
                return None
            fields["target_date"] = when
        status = status_cell(cells)
        if status:
            found = status_of(status)
            if found is None:
                return None
            fields["status"] = found
        return Prepared((episode_id, goal), (episode_id, construct(fields)))

    return fast


def _goal_status(cache: dict[str, str]) -> Callable[[str], str | None]:
    """A goal's status by the model's own rule (Goal), once per spelling."""
    def convert(text: str) -> str | None:
        found = cache.get(text)
        if found is None:
            try:
                found = validate(Goal, {"goal": "-", "status": text}).status
            except ValidationError:
                return None
            if len(cache) < _CACHE_LIMIT:
                cache[text] = found
        return found

    return convert


# Partner's one-line fields besides the name, with their length limits (models.Partner).
_PARTNER_LINES = (("organization", NAME_MAX), ("phone", PHONE_MAX), ("fax", PHONE_MAX),
                  ("email", EMAIL_MAX), ("address", ADDRESS_MAX), ("city", CITY_MAX),
                  ("state", SHORT_MAX), ("zip", SHORT_MAX))
# Partner's vocabulary fields besides the kind.
_PARTNER_WORDS = (("stage", STAGES), ("preferred_contact", CHANNELS))


def _partners(positions: dict[str, int]) -> Fast:
    """PartnersKind.prepare for the common row: the Partner model's rules (models.Partner:
    lengths, the NPI check digit, e-mail, state and ZIP patterns, vocabularies, tags) on a
    row whose every cell is printable (so no control character anywhere) and none of them one
    of our neutralised exports; anything else, or any doubt, goes to the model (None), which
    words the error. The record is a light one with the fields the model would have set."""
    # The columns of this file, in the file's order; "name" and "kind" are required by the
    # header check (map_header), so there are at least two.
    names = tuple(sorted(positions, key=positions.__getitem__))
    cells_of = _getter(positions, names)
    kind_of = Words(PARTNER_KINDS).get
    words = [(name, Words(vocabulary).get) for name, vocabulary in _PARTNER_WORDS
             if name in positions]
    limits = [(name, limit) for name, limit in (("name", NAME_MAX), *_PARTNER_LINES,
                                                 ("notes", NOTE_MAX)) if name in positions]
    # Not remembered: a partners file names each NPI once, so a memo would only add a call.
    npi_of = _npi_or_none
    states: dict[str, str] = {}  # a file names few states: each checked once
    make = _PARTNER

    def fast(cells: list[str]) -> Prepared | None:
        joined = ",".join(cells)
        if not joined.isprintable() or joined[:1] == "'" or ",'" in joined:
            return None
        # As prepare: blank cells are not given (the record's model_fields_set), tags always.
        fields: dict[str, Any] = {name: text for name, text in
                                  zip(names, map(str.strip, cells_of(cells)), strict=True) if text}
        name, kind = fields.get("name"), fields.get("kind")
        if name is None or kind is None:
            return None
        kind = fields["kind"] = kind_of(kind)
        if kind is None:
            return None
        # Every limit is at least SHORT_MAX: the common row needs no look at each field.
        if max(map(len, fields.values())) > SHORT_MAX and too_long(fields):
            return None
        for field_name, word_of in words:
            text = fields.get(field_name)
            if text is not None:
                found = word_of(text)
                if found is None:
                    return None
                fields[field_name] = found
        npi = fields.get("npi")
        if npi is not None and npi_of(npi) is None:
            return None
        email, state, zip_code = fields.get("email"), fields.get("state"), fields.get("zip")
        if email is not None and not EMAIL_RE.match(email):
            return None
        if state is not None:
            checked = states.get(state)
            if checked is None:
                checked = _state(state)
                if checked is None:
                    return None
                states[state] = checked
            fields["state"] = checked
        if zip_code is not None and not ZIP_RE.match(zip_code):
            return None
        tags = fields.get("tags")
        if tags is None:
            fields["tags"] = []
        else:
            listed = fields["tags"] = [t.strip() for t in tags.split(";") if t.strip()]
            if len(listed) > TAGS_MAX or any(len(t) > TAG_MAX for t in listed):
                return None
        key = ("npi", npi) if npi else ("name", name.casefold())
        return Prepared(key, make(fields))

    def too_long(fields: dict[str, Any]) -> bool:
        """Whether a field is over its own limit (the tags are checked one by one later)."""
        return any(len(fields.get(field_name, "")) > limit for field_name, limit in limits)

    return fast


def _state(text: str) -> str | None:
    """Partner's state rule: upper-cased, then two letters A-Z."""
    upper = text.upper()
    return upper if STATE_RE.match(upper) else None


def _npi_or_none(text: str) -> str | None:
    try:
        return validate_npi(text)
    except ValidationError:
        return None
