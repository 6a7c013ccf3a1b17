"""Pydantic models: every record is validated by one of these on its way into the database.

Validation errors name the field, so the CLI and the importers can say which column of which line
is wrong. Values are normalised (synonyms to canonical words, dates to ISO) but never invented.

Text comes in two kinds. Names and codes (a partner's or patient's name, an organisation, a
record number, an episode id...) are one line of plain text: a control character (C0 including
tab and newline, DEL, C1, a bidi override or isolate) is refused with the field named, because
names label every table and must not carry terminal escapes. Free text (notes, comments,
summaries, reasons, findings) is stored as typed and made safe on output by
``outcomes.text.printable``. Every text field has a length cap, listed in each model's docstring,
so that a pasted document cannot become a 36-page packet.

Numbers are written with the ASCII digits 0-9 only (``str.isdigit`` and ``\\d`` also accept
full-width and Arabic-Indic digits). Dates have a plausible range per field (see
``outcomes.dates``): nothing before 1900, and nothing that happens in care before 1990.

One module because every record shares the same text, date and number validators, and the
importers, the command line and the dashboard all validate through :func:`validate` here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from outcomes import vocab
from outcomes.dates import EARLIEST_BIRTH_DATE, EARLIEST_CARE_DATE, EARLIEST_DATE, parse_date
from outcomes.errors import ValidationError
from outcomes.npi import validate_npi
from outcomes.text import find_control

# ICD-10-CM: a letter, a digit, a digit or letter, then optionally a dot and 1-4 characters.
ICD10_RE = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.?[0-9A-TV-Z]{1,4})?$")
STATE_RE = re.compile(r"^[A-Z]{2}$")
ZIP_RE = re.compile(r"^[0-9]{5}(-[0-9]{4})?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WHOLE_RE = re.compile(r"^[0-9]+$")
DECIMAL_RE = re.compile(r"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")

# Length caps in characters, counted after trimming. Generous for anything a clinic types; a
# paste of a whole document is refused.
NAME_MAX = 200
"""Names of people, organisations, clinics and clinicians."""
CODE_MAX = 64
"""Record numbers, episode ids, instrument ids."""
PHONE_MAX = 40
EMAIL_MAX = 254
"""The longest address SMTP allows (RFC 5321)."""
ADDRESS_MAX = 300
CITY_MAX = 100
SHORT_MAX = 40
"""Short labels such as sex."""
TAG_MAX = 50
TAGS_MAX = 50
"""Tags per partner."""
REASON_MAX = 2000
"""Reasons: the rationale for an outbound referral, why a referral was not scheduled."""
NOTE_MAX = 5000
"""Notes, comments, summaries and clinical free text."""


def _strip(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _vocab(v: vocab.Vocabulary) -> BeforeValidator:
    def check(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return v.normalize(str(value))

    return BeforeValidator(check)


def _past_date(field: str, earliest: dt.date = EARLIEST_CARE_DATE) -> BeforeValidator:
    def check(value: Any, info: ValidationInfo) -> Any:
        value = _strip(value)
        if value is None:
            return None
        reference = (info.context or {}).get("today")
        return parse_date(value, field=field, reference=reference, earliest=earliest)

    return BeforeValidator(check)


def _any_date(field: str, earliest: dt.date = EARLIEST_CARE_DATE) -> BeforeValidator:
    def check(value: Any, info: ValidationInfo) -> Any:
        value = _strip(value)
        if value is None:
            return None
        reference = (info.context or {}).get("today")
        return parse_date(value, field=field, allow_future=True, reference=reference,
                          earliest=earliest)

    return BeforeValidator(check)


def _too_long(field: str, text: str, limit: int) -> ValidationError:
    return ValidationError(f"{field} is {len(text):,} characters long; the limit is {limit:,}.")


def _line(limit: int) -> BeforeValidator:
    """One line of plain text (a name, a code): no control characters, at most ``limit``."""

    def check(value: Any, info: ValidationInfo) -> Any:
        value = _strip(value)
        if not isinstance(value, str):
            return value
        field = info.field_name or "text"
        found = find_control(value)
        if found is not None:
            position, shown = found
            raise ValidationError(
                f"{field} has a control character ({shown}) at character {position}; "
                "write it as plain text on one line."
            )
        if len(value) > limit:
            raise _too_long(field, value, limit)
        return value

    return BeforeValidator(check)


def _free(limit: int, *, blank: str | None = None) -> BeforeValidator:
    """Free text, stored as typed (controls included: they are escaped on output), capped."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()
        if len(value) > limit:
            raise _too_long(info.field_name or "text", value, limit)
        return value or blank

    return BeforeValidator(check)


def _whole_number(value: Any, info: ValidationInfo) -> Any:
    """An int, or a string of the digits 0-9 (int() would also read "\uff15" and "\u0663")."""
    if isinstance(value, str):
        text = value.strip()
        if not WHOLE_RE.match(text):
            raise ValidationError(
                f"{info.field_name} {value!r} must be a whole number written with the digits 0-9."
            )
        return int(text)
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValidationError(f"{info.field_name} {value!r} must be a whole number.")
    return value


def _decimal(value: Any, info: ValidationInfo) -> Any:
    """A number, or a string of the digits 0-9 with an optional point (float() reads others)."""
    if isinstance(value, str):
        text = value.strip()
        if not DECIMAL_RE.match(text):
            raise ValidationError(
                f"{info.field_name} {value!r} must be a number written with the digits 0-9."
            )
        return float(text)
    if isinstance(value, bool):
        raise ValidationError(f"{info.field_name} {value!r} must be a number.")
    return value


def _npi(value: Any) -> Any:
    value = _strip(value)
    if value is None:
        return None
    return validate_npi(str(value))


def _icd10(value: Any) -> Any:
    value = _strip(value)
    if value is None:
        return None
    code = str(value).upper()
    if not ICD10_RE.match(code):
        raise ValidationError(
            f"diagnosis {value!r} is not an ICD-10-CM code (e.g. M54.50, S83.511A)."
        )
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code


M = TypeVar("M", bound=BaseModel)

def _required(value: Any, info: ValidationInfo) -> Any:
    value = _strip(value)
    if value is None:
        raise ValidationError(f"{info.field_name} is required.")
    return value


# Validators run right to left: _required first, then the line check.
Name = Annotated[str | None, _line(NAME_MAX)]
RequiredName = Annotated[str, _line(NAME_MAX), BeforeValidator(_required), Field(min_length=1)]
Code = Annotated[str | None, _line(CODE_MAX)]
RequiredCode = Annotated[str, _line(CODE_MAX), BeforeValidator(_required), Field(min_length=1)]
Note = Annotated[str | None, _free(NOTE_MAX)]
Reason = Annotated[str | None, _free(REASON_MAX)]
RequiredReason = Annotated[str, _free(REASON_MAX), BeforeValidator(_required),
                           Field(min_length=1)]
Npi = Annotated[str | None, BeforeValidator(_npi)]
Icd10 = Annotated[str | None, BeforeValidator(_icd10)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Partner(Record):
    """A person or organisation that refers patients to the clinic or receives them.

    Limits (characters): name and organization 200, phone and fax 40, email 254, address 300,
    city 100, up to 50 tags of 50, notes 5,000. Every field but notes is one line of plain text.
    """

    name: RequiredName
    kind: Annotated[str, _vocab(vocab.PARTNER_KINDS)]
    organization: Name = None
    npi: Npi = None
    phone: Annotated[str | None, _line(PHONE_MAX)] = None
    fax: Annotated[str | None, _line(PHONE_MAX)] = None
    email: Annotated[str | None, _line(EMAIL_MAX)] = None
    address: Annotated[str | None, _line(ADDRESS_MAX)] = None
    city: Annotated[str | None, _line(CITY_MAX)] = None
    state: Annotated[str | None, _line(SHORT_MAX)] = None
    zip: Annotated[str | None, _line(SHORT_MAX)] = None
    preferred_contact: Annotated[str | None, _vocab(vocab.CHANNELS)] = None
    stage: Annotated[str | None, _vocab(vocab.STAGES)] = None
    tags: list[Annotated[str, _line(TAG_MAX)]] = Field(default_factory=list,
                                                       max_length=TAGS_MAX)
    notes: Note = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL_RE.match(value):
            raise ValidationError(f"email {value!r} is not an email address.")
        return value

    @field_validator("state")
    @classmethod
    def _state(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.upper()
            if not STATE_RE.match(value):
                raise ValidationError(f"state {value!r} must be a two-letter code such as OR.")
        return value

    @field_validator("zip")
    @classmethod
    def _zip(cls, value: str | None) -> str | None:
        if value is not None and not ZIP_RE.match(value):
            raise ValidationError(f"zip {value!r} must be 5 digits or ZIP+4 (97201-1234).")
        return value


class Patient(Record):
    """Patient identity. Kept in its own table so reports can exclude it by construction.

    Limits: record_number 64 characters, name 200, sex 40, all one line of plain text;
    birth_date from 1900-01-01 to today.
    """

    record_number: RequiredCode
    name: Name = None
    birth_date: Annotated[dt.date | None, _past_date("birth_date", EARLIEST_BIRTH_DATE)] = None
    sex: Annotated[str | None, _line(SHORT_MAX)] = None


class Episode(Record):
    """An episode of care, which starts as an inbound referral from a partner (or none).

    Limits: id, patient_record_number and instrument 64 characters, clinician and clinic 200
    (one line of plain text each); status_reason 2,000; chief_complaint, findings, treatment and
    plan 5,000 (free text). visits 0-1000, digits 0-9 only. The referral, first-visit, discharge
    and scheduled dates are from 1990-01-01 on (scheduled at most five years ahead); onset_date
    from 1900-01-01, as a condition may start long before care.
    """

    id: RequiredCode
    patient_record_number: RequiredCode
    partner_id: int | None = None
    referral_date: Annotated[dt.date, _past_date("referral_date")]
    body_region: Annotated[str, _vocab(vocab.BODY_REGIONS)]
    diagnosis: Icd10 = None
    status: Annotated[str | None, _vocab(vocab.EPISODE_STATUSES)] = None
    status_reason: Reason = None
    scheduled_date: Annotated[dt.date | None, _any_date("scheduled_date")] = None
    first_visit_date: Annotated[dt.date | None, _past_date("first_visit_date")] = None
    discharge_date: Annotated[dt.date | None, _past_date("discharge_date")] = None
    visits: Annotated[int | None, BeforeValidator(_whole_number)] = Field(
        default=None, ge=0, le=1000)
    discharge_reason: Annotated[str | None, _vocab(vocab.DISCHARGE_REASONS)] = None
    clinician: Name = None
    clinic: Name = None
    onset_date: Annotated[dt.date | None, _past_date("onset_date", EARLIEST_DATE)] = None
    chief_complaint: Note = None
    findings: Note = None
    treatment: Note = None
    plan: Note = None
    instrument: Code = None
    # Condition (issue 18): the procedure's name from outcomes.measures.conditions (the callers
    # normalise what was typed, as this layer may not read that table); surgical: None unknown.
    procedure: Code = None
    surgical: bool | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Episode:
        if self.procedure and self.surgical is False:
            raise ValidationError(f"procedure {self.procedure!r} is surgery, but surgical is "
                                  "no; leave out one of the two.")
        if self.first_visit_date and self.first_visit_date < self.referral_date:
            raise ValidationError(
                f"first_visit_date {self.first_visit_date} is before referral_date "
                f"{self.referral_date}."
            )
        if self.discharge_date:
            start = self.first_visit_date or self.referral_date
            if self.discharge_date < start:
                raise ValidationError(
                    f"discharge_date {self.discharge_date} is before the first visit {start}."
                )
        if self.status in ("not_scheduled", "cancelled") and not self.status_reason:
            raise ValidationError(f"a referral that ends as {self.status} needs a reason.")
        return self



CERTIFICATIONS = {"signed": ("signed", "signed and returned", "returned", "signed plan"),
                  "order_on_file": ("order on file", "order", "signed order", "order_on_file")}
"""How a plan of care was certified: the signed plan came back, or a signed order is on file
(with the plan sent once, the rule since 2025)."""
GOAL_STATUSES = ("open", "met", "partly_met", "not_met")


def _choice(choices: dict[str, tuple[str, ...]] | tuple[str, ...]) -> BeforeValidator:
    """One of a few words, with spaces or underscores and in any case."""
    table = {k: (k, *v) for k, v in choices.items()} if isinstance(choices, dict) \
        else {k: (k,) for k in choices}

    def check(value: Any, info: ValidationInfo) -> Any:
        value = _strip(value)
        if value is None:
            return None
        folded = str(value).lower().replace("_", " ").replace("-", " ")
        for key, words in table.items():
            if folded in {w.replace("_", " ") for w in words}:
                return key
        allowed = ", ".join(k.replace("_", " ") for k in table)
        raise ValidationError(f"{info.field_name} {value!r} must be one of: {allowed}.")

    return BeforeValidator(check)


class ClinicalContent(Record):
    """What the clinician found and plans for one episode: what the letters to the referrer are
    made from. Every field is optional; a field left out is left as it is.

    Limits: plan_frequency and plan_duration 200 characters (one line of plain text); the
    others are free text up to 5,000 (referral_question and precautions 2,000). The diagnosis is
    an ICD-10-CM code checked for form. onset_date from 1900-01-01 to today;
    physician_follow_up (the patient's next visit to the referring physician) up to five years
    ahead; the plan-of-care dates from 1990-01-01 to today.
    """

    onset_date: Annotated[dt.date | None, _past_date("onset_date", EARLIEST_DATE)] = None
    chief_complaint: Note = None
    history: Note = None
    findings: Note = None
    diagnosis: Icd10 = None
    treatment: Note = None
    plan: Note = None
    plan_frequency: Name = None
    plan_duration: Name = None
    plan_interventions: Note = None
    referral_question: Reason = None
    precautions: Reason = None
    physician_follow_up: Annotated[dt.date | None, _any_date("physician_follow_up")] = None
    poc_sent_date: Annotated[dt.date | None, _past_date("poc_sent_date")] = None
    poc_certified_date: Annotated[dt.date | None, _past_date("poc_certified_date")] = None
    poc_certified_by: Annotated[str | None, _choice(CERTIFICATIONS)] = None

    @model_validator(mode="after")
    def _certified_how(self) -> ClinicalContent:
        if self.poc_certified_date and not self.poc_certified_by:
            raise ValidationError("say how the plan of care was certified: signed (the signed "
                                  "plan came back) or order on file.", field="poc_certified_by")
        return self


class Goal(Record):
    """A treatment goal of an episode. Limits: goal 2,000 characters; target_date from
    1990-01-01, up to five years ahead; status open, met, partly met or not met."""

    goal: RequiredReason
    target_date: Annotated[dt.date | None, _any_date("target_date")] = None
    status: Annotated[str, _choice(GOAL_STATUSES)] = "open"


class Touchpoint(Record):
    """A contact with a partner. Gifts and meals carry their dollar value in ``amount``.

    Limits: who 200 characters (one line of plain text), summary 5,000 (free text); amount
    0-100,000 in digits 0-9; date from 1990-01-01 to today, next_follow_up at most five years
    ahead.
    """

    partner_id: int
    date: Annotated[dt.date, _past_date("date")]
    method: Annotated[str, _vocab(vocab.TOUCH_METHODS)]
    who: Name = None
    summary: Annotated[str, _free(NOTE_MAX, blank="")] = ""
    amount: Annotated[float | None, BeforeValidator(_decimal)] = Field(
        default=None, ge=0, le=100_000)
    next_follow_up: Annotated[dt.date | None, _any_date("next_follow_up")] = None


class OutboundReferral(Record):
    """The clinic refers a patient to a partner. The clinical rationale is required.

    Limits: episode_id 64 characters (plain text), reason 2,000; date from 1990-01-01 to today.
    """

    partner_id: int
    episode_id: Code = None
    date: Annotated[dt.date, _past_date("date")]
    reason: RequiredReason
    question: Reason = None
    """The clinical question the clinic wants answered (the outbound referral note says it)."""


class Communication(Record):
    """An update, summary, letter or packet sent to a partner.

    Limits: episode_id 64 characters (plain text), note 5,000; date from 1990-01-01 to today.
    """

    partner_id: int
    episode_id: Code = None
    date: Annotated[dt.date, _past_date("date")]
    kind: Annotated[str, _vocab(vocab.COMMUNICATION_KINDS)]
    channel: Annotated[str, _vocab(vocab.CHANNELS)] = "fax"
    note: Note = None


class NpsResponse(Record):
    """An answer to the Net Promoter question (0-10), with an optional comment.

    Limits: episode_id 64 characters (plain text), comment 5,000 (stored as typed); score in the
    digits 0-9; date from 1990-01-01 to today.
    """

    episode_id: Code = None
    date: Annotated[dt.date, _past_date("date")]
    score: int = Field(ge=0, le=10, strict=True)
    comment: Annotated[str, _free(NOTE_MAX, blank="")] = ""

    @field_validator("score", mode="before")
    @classmethod
    def _integer(cls, value: Any) -> Any:
        message = f"NPS score {value!r} must be a whole number from 0 to 10 (digits 0-9)."
        if isinstance(value, str):
            # [0-9], not \d: \d and int() also read full-width and Arabic-Indic digits.
            if not re.fullmatch(r"[0-9]{1,2}", value.strip()):
                raise ValidationError(message)
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
            raise ValidationError(message)
        return value


def validate(model: type[M], data: dict[str, Any], *, today: dt.date | None = None) -> M:
    """Validate ``data`` as ``model``; raise one ValidationError naming the first bad field."""
    import pydantic

    try:
        return model.model_validate(data, context={"today": today})
    except pydantic.ValidationError as exc:
        raise from_pydantic(exc) from None


def from_pydantic(exc: Any) -> ValidationError:
    """Turn pydantic's error list into one plain sentence with the field it concerns."""
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "missing":
        message = f"{field} is required."
    elif first["type"] == "extra_forbidden":
        message = f"{field} is not a field of this record."
    elif field and not message.lower().startswith(field.lower().split(".")[0].replace("_", " ")) \
            and field not in message:
        message = f"{field}: {message}"
    return ValidationError(message, field=field)
