"""Pydantic models: every record is validated by one of these on its way into the database.

Validation errors name the field, so the CLI and the importers can say which column of which line
is wrong. Values are normalised (synonyms to canonical words, dates to ISO) but never invented.
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
from outcomes.dates import parse_date
from outcomes.errors import ValidationError
from outcomes.npi import validate_npi

# ICD-10-CM: a letter, a digit, a digit or letter, then optionally a dot and 1-4 characters.
ICD10_RE = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.?[0-9A-TV-Z]{1,4})?$")
STATE_RE = re.compile(r"^[A-Z]{2}$")
ZIP_RE = re.compile(r"^\d{5}(-\d{4})?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


def _past_date(field: str) -> BeforeValidator:
    def check(value: Any, info: ValidationInfo) -> Any:
        value = _strip(value)
        if value is None:
            return None
        reference = (info.context or {}).get("today")
        return parse_date(value, field=field, reference=reference)

    return BeforeValidator(check)


def _any_date(field: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        value = _strip(value)
        if value is None:
            return None
        return parse_date(value, field=field, allow_future=True)

    return BeforeValidator(check)


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

Text = Annotated[str | None, BeforeValidator(_strip)]
def _required(value: Any, info: ValidationInfo) -> Any:
    value = _strip(value)
    if value is None:
        raise ValidationError(f"{info.field_name} is required.")
    return value


RequiredText = Annotated[str, BeforeValidator(_required), Field(min_length=1)]
Npi = Annotated[str | None, BeforeValidator(_npi)]
Icd10 = Annotated[str | None, BeforeValidator(_icd10)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Partner(Record):
    """A person or organisation that refers patients to the clinic or receives them."""

    name: RequiredText
    kind: Annotated[str, _vocab(vocab.PARTNER_KINDS)]
    organization: Text = None
    npi: Npi = None
    phone: Text = None
    fax: Text = None
    email: Text = None
    address: Text = None
    city: Text = None
    state: Text = None
    zip: Text = None
    preferred_contact: Annotated[str | None, _vocab(vocab.CHANNELS)] = None
    stage: Annotated[str | None, _vocab(vocab.STAGES)] = None
    tags: list[str] = Field(default_factory=list)
    notes: Text = None

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
    """Patient identity. Kept in its own table so reports can exclude it by construction."""

    record_number: RequiredText
    name: Text = None
    birth_date: Annotated[dt.date | None, _past_date("birth_date")] = None
    sex: Text = None


class Episode(Record):
    """An episode of care, which starts as an inbound referral from a partner (or none)."""

    id: RequiredText
    patient_record_number: RequiredText
    partner_id: int | None = None
    referral_date: Annotated[dt.date, _past_date("referral_date")]
    body_region: Annotated[str, _vocab(vocab.BODY_REGIONS)]
    diagnosis: Icd10 = None
    status: Annotated[str | None, _vocab(vocab.EPISODE_STATUSES)] = None
    status_reason: Text = None
    scheduled_date: Annotated[dt.date | None, _any_date("scheduled_date")] = None
    first_visit_date: Annotated[dt.date | None, _past_date("first_visit_date")] = None
    discharge_date: Annotated[dt.date | None, _past_date("discharge_date")] = None
    visits: int | None = Field(default=None, ge=0, le=1000)
    discharge_reason: Annotated[str | None, _vocab(vocab.DISCHARGE_REASONS)] = None
    clinician: Text = None
    clinic: Text = None
    onset_date: Annotated[dt.date | None, _past_date("onset_date")] = None
    chief_complaint: Text = None
    findings: Text = None
    treatment: Text = None
    plan: Text = None
    instrument: Text = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Episode:
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



class Touchpoint(Record):
    """A contact with a partner. Gifts and meals carry their dollar value in ``amount``."""

    partner_id: int
    date: Annotated[dt.date, _past_date("date")]
    method: Annotated[str, _vocab(vocab.TOUCH_METHODS)]
    who: Text = None
    summary: str = ""
    amount: float | None = Field(default=None, ge=0, le=100_000)
    next_follow_up: Annotated[dt.date | None, _any_date("next_follow_up")] = None


class OutboundReferral(Record):
    """The clinic refers a patient to a partner. The clinical rationale is required."""

    partner_id: int
    episode_id: Text = None
    date: Annotated[dt.date, _past_date("date")]
    reason: RequiredText


class Communication(Record):
    """An update, summary, letter or packet sent to a partner."""

    partner_id: int
    episode_id: Text = None
    date: Annotated[dt.date, _past_date("date")]
    kind: Annotated[str, _vocab(vocab.COMMUNICATION_KINDS)]
    channel: Annotated[str, _vocab(vocab.CHANNELS)] = "fax"
    note: Text = None


class NpsResponse(Record):
    """An answer to the Net Promoter question (0-10), with an optional comment."""

    episode_id: Text = None
    date: Annotated[dt.date, _past_date("date")]
    score: int = Field(ge=0, le=10, strict=True)
    comment: str = ""

    @field_validator("score", mode="before")
    @classmethod
    def _integer(cls, value: Any) -> Any:
        message = f"NPS score {value!r} must be a whole number from 0 to 10."
        if isinstance(value, str):
            if not re.fullmatch(r"\d{1,2}", value.strip()):
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
