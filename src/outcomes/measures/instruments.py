"""Instrument definitions: pydantic models and the TOML loader.

Each instrument lives in one TOML file (``surveys/<id>.toml``). The models below are the
schema of those files; their attribute docstrings are the reference documentation.

One module because the schema, its cross-field checks and the loader that reports a broken
file by field describe one thing, the definition file format; split, each part would need the
others to be read.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from outcomes.errors import InstrumentError
from outcomes.paths import shipped_surveys_dir

BODY_REGIONS = frozenset(
    {
        "low back",
        "neck",
        "shoulder",
        "elbow",
        "wrist/hand",
        "hip",
        "knee",
        "ankle/foot",
        "other",
        "any",
    }
)

Method = Literal["percent_of_max", "sum", "dash", "mean", "lookup", "single"]
Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    HIGHER_IS_WORSE = "higher_is_worse"


# TOML has no enum type: accept the string value (still validated against the enum).
DirectionValue = Annotated[Direction, Field(strict=False)]


class _Strict(BaseModel):
    # strict: a number written as a string ("10") is a mistake in a clinical definition, not a
    # value to coerce; extra="forbid": a misspelt key must not be silently ignored.
    # The attribute docstrings stay the reference documentation in the source, but are not
    # copied into the fields' descriptions (use_attribute_docstrings): nothing reads those, and
    # parsing this module's source for them cost ~0.1 s at every import, on the dashboard's
    # alert worker before its queue could show (issue 14).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Item(_Strict):
    id: Id
    """Stable identifier of the item, unique within the instrument (used by scales)."""
    label: str = Field(min_length=1, max_length=80)
    """Short label only (e.g. "Walking"): never the copyrighted question or response wording."""
    min: int
    """Lowest valid answer."""
    max: int
    """Highest valid answer."""
    direction: DirectionValue | None = None
    """What a higher answer means for the patient; defaults to the direction of its scale(s)."""
    recode: dict[int, int] | None = None
    """Published recoding applied before summing, keyed by answer (e.g. PROMIS Global07 pain)."""
    note: str | None = None
    """Data-entry hint (e.g. which printed value to enter)."""

    @field_validator("recode", mode="before")
    @classmethod
    def _int_keys(cls, value: Any) -> Any:
        return _keys_to_int(value)

    @model_validator(mode="after")
    def _check(self) -> Item:
        if self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be lower than max ({self.max})")
        if self.recode is not None:
            expected = set(range(self.min, self.max + 1))
            if set(self.recode) != expected:
                raise ValueError(
                    f"recode must map every answer from {self.min} to {self.max} exactly once"
                )
        return self

    def scored_value(self, answer: int) -> int:
        """The value that enters the sum: the answer, or its published recoding."""
        return self.recode[answer] if self.recode is not None else answer

    def scored_values(self) -> list[int]:
        return sorted({self.scored_value(a) for a in range(self.min, self.max + 1)})


class MissingRule(_Strict):
    max_missing: int | None = Field(default=None, ge=0)
    """Most items of the scale that may be unanswered and the scale still scored."""
    min_answered: int | None = Field(default=None, ge=1)
    """Fewest items of the scale that must be answered for the scale to be scored."""
    rationale: str = Field(min_length=1)
    """Why this rule: the published rule, or why none exists and what was chosen."""

    @model_validator(mode="after")
    def _one_rule(self) -> MissingRule:
        if self.max_missing is None and self.min_answered is None:
            raise ValueError("set max_missing or min_answered (or both)")
        return self

    def required(self, n_items: int) -> int:
        """Fewest answered items needed out of ``n_items``."""
        needed = 1
        if self.max_missing is not None:
            needed = max(needed, n_items - self.max_missing)
        if self.min_answered is not None:
            needed = max(needed, self.min_answered)
        return needed


class Threshold(_Strict):
    value: float = Field(gt=0)
    """Size of the change, always positive; the scale's direction says which way is better."""
    unit: Literal["points", "percent"]
    """"points" on the score scale, or "percent" of the baseline (intake) score."""
    population: str = Field(min_length=1)
    """Patients in whom the value was established."""
    source: str = Field(min_length=1)
    """Full citation."""


class Mcid(Threshold):
    """Minimal clinically important difference."""


class Mdc(Threshold):
    """Minimal detectable change."""


class Band(_Strict):
    label: str = Field(min_length=1)
    """Interpretation label (e.g. "Moderate disability")."""
    min: float
    """Lowest score in the band; the band runs up to the next band's min (last one: score_max)."""


class Scale(_Strict):
    name: str = Field(min_length=1)
    """Display name of the score."""
    items: list[Id] = Field(min_length=1)
    """Ids of the items summed by this scale."""
    direction: DirectionValue
    """What a higher score means for the patient."""
    method: Method
    """percent_of_max | sum | dash | mean | lookup | single (see docs/instruments.md)."""
    score_min: float
    """Lowest possible score."""
    score_max: float
    """Highest possible score."""
    lookup: dict[int, float] | None = None
    """For method "lookup": score for every possible raw sum."""
    lookup_source: str | None = None
    """For method "lookup": where the table comes from and what it was checked against."""
    missing: MissingRule
    """How many items may be missing."""
    mcid: Mcid | None = None
    """Minimal clinically important difference, if one is published."""
    mdc: Mdc | None = None
    """Minimal detectable change, if one is published."""
    bands: list[Band] = Field(default_factory=list)
    """Published interpretation bands, lowest first."""
    notes: str | None = None
    """Anything a clinician should know (disagreements in the literature, choices made)."""

    @field_validator("lookup", mode="before")
    @classmethod
    def _int_keys(cls, value: Any) -> Any:
        return _keys_to_int(value)

    @model_validator(mode="after")
    def _check(self) -> Scale:
        if self.score_min >= self.score_max:
            raise ValueError("score_min must be lower than score_max")
        if len(set(self.items)) != len(self.items):
            raise ValueError("an item is listed twice")
        if (self.method == "lookup") != (self.lookup is not None):
            raise ValueError('a lookup table is needed exactly when method = "lookup"')
        if self.lookup is not None and not self.lookup_source:
            raise ValueError("lookup_source must cite the published table")
        if self.method == "single" and len(self.items) != 1:
            raise ValueError('method "single" needs exactly one item')
        mins = [b.min for b in self.bands]
        if mins and (mins != sorted(mins) or len(set(mins)) != len(mins)):
            raise ValueError("bands must be listed lowest first, each with a different min")
        if mins and mins[0] != self.score_min:
            raise ValueError("the first band must start at score_min")
        return self

    def band(self, score: float) -> str | None:
        """Interpretation label for a score, or None when the scale has no bands."""
        label = None
        for b in self.bands:
            if score >= b.min:
                label = b.label
        return label


class Instrument(_Strict):
    id: Id
    """Instrument id, also the file name (``<id>.toml``)."""
    name: str = Field(min_length=1)
    """Full name."""
    version: str = Field(min_length=1)
    """Version of the instrument (e.g. "2.1a")."""
    body_regions: list[str] = Field(min_length=1)
    """Body regions it fits; "any" for generic instruments."""
    items: list[Item] = Field(min_length=1)
    """Items in the order the answers are given."""
    min_answers: int | None = Field(default=None, ge=1)
    """If set, fewer answers than items may be given (PSFS: 1 to 5 activities)."""
    scales: dict[Id, Scale] = Field(min_length=1)
    """Scores produced, keyed by scale id (unique across all instruments)."""
    licence: str = Field(min_length=1)
    """Copyright holder and whether use needs a licence."""
    source: str = Field(min_length=1)
    """Citation of the instrument and its scoring rules."""
    notes: str | None = None
    """Anything else: choices made, what could not be verified."""

    @field_validator("body_regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in BODY_REGIONS]
        if unknown:
            raise ValueError(
                f"unknown body region {unknown[0]!r}; use one of {', '.join(sorted(BODY_REGIONS))}"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> Instrument:
        ids = [i.id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("items: two items have the same id")
        if len(self.scales) == 1 and self.id not in self.scales:
            raise ValueError(f"scales: a single-scale instrument's scale must be named {self.id!r}")
        if self.min_answers is not None and self.min_answers > len(self.items):
            raise ValueError("min_answers: larger than the number of items")
        by_id = {i.id: i for i in self.items}
        for scale_id, scale in self.scales.items():
            for item_id in scale.items:
                if item_id not in by_id:
                    raise ValueError(f"scales.{scale_id}.items: unknown item {item_id!r}")
            _check_scale_range(scale_id, scale, [by_id[i] for i in scale.items])
        return self

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)

    def item_number(self, item_id: str) -> int:
        """1-based position of an item in the answer list."""
        return next(n for n, i in enumerate(self.items, start=1) if i.id == item_id)

    def item_direction(self, item_id: str) -> Direction:
        item = self.item(item_id)
        if item.direction is not None:
            return item.direction
        for scale in self.scales.values():
            if item_id in scale.items:
                return scale.direction
        return Direction.HIGHER_IS_BETTER


def _keys_to_int(value: Any) -> Any:
    # TOML keys are strings; tables keyed by an answer or a raw sum need whole-number keys.
    if not isinstance(value, dict):
        return value
    out: dict[Any, Any] = {}
    for key, v in value.items():
        if isinstance(key, str) and key.lstrip("-").isdigit():
            out[int(key)] = v
        elif isinstance(key, int) and not isinstance(key, bool):
            out[key] = v
        else:
            raise ValueError(f"key {key!r} must be a whole number")
    return out


def possible_raw_sums(items: Sequence[Item]) -> set[int]:
    sums = {0}
    for item in items:
        sums = {s + v for s in sums for v in item.scored_values()}
    return sums


def _check_scale_range(scale_id: str, scale: Scale, items: list[Item]) -> None:
    """The declared score range must be exactly what the method can produce."""
    lows = [i.scored_values()[0] for i in items]
    highs = [i.scored_values()[-1] for i in items]
    if scale.method == "lookup":
        assert scale.lookup is not None
        sums = possible_raw_sums(items)
        missing = sorted(sums - set(scale.lookup))
        extra = sorted(set(scale.lookup) - sums)
        if missing:
            raise ValueError(f"scales.{scale_id}.lookup: no score for raw sum {missing[0]}")
        if extra:
            raise ValueError(f"scales.{scale_id}.lookup: raw sum {extra[0]} cannot occur")
        if scale.missing.required(len(items)) != len(items):
            raise ValueError(f"scales.{scale_id}.missing: a lookup table needs every item answered")
        low, high = min(scale.lookup.values()), max(scale.lookup.values())
    elif scale.method == "percent_of_max":
        low, high = 0.0, 100.0
    elif scale.method == "sum":
        if scale.missing.required(len(items)) != len(items):
            raise ValueError(f"scales.{scale_id}.missing: a plain sum needs every item answered")
        low, high = float(sum(lows)), float(sum(highs))
    elif scale.method == "dash":
        if any(i.min != 1 or i.max != 5 or i.recode for i in items):
            raise ValueError(f"scales.{scale_id}.items: the DASH formula needs items scored 1 to 5")
        low, high = 0.0, 100.0
    else:  # mean, single
        low, high = float(min(lows)), float(max(highs))
    if (scale.score_min, scale.score_max) != (low, high):
        raise ValueError(
            f"scales.{scale_id}.score_min: range {scale.score_min:g}-{scale.score_max:g} "
            "does not match "
            f"what the {scale.method} method gives ({low:g}-{high:g})"
        )


# --- loading -----------------------------------------------------------------------------


def _display(path: Path) -> str:
    # Name the file the way the user knows it: relative to the repo or cwd when possible.
    for base in (Path.cwd(), shipped_surveys_dir().parent):
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def load_file(path: Path) -> Instrument:
    """Load and validate one definition file; raise InstrumentError naming file and field."""
    name = _display(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InstrumentError(f"{name}: cannot be read ({exc.strerror}).") from exc
    except UnicodeDecodeError as exc:
        raise InstrumentError(f"{name}: is not UTF-8 text; save it as UTF-8.") from exc
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends with "(at line N, column M)".
        raise InstrumentError(f"{name}: invalid TOML: {exc}.") from exc
    try:
        instrument = Instrument.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        msg = first["msg"].removeprefix("Value error, ")
        where = _loc(first["loc"])
        # Cross-field checks run on the whole file and put the field path in the message.
        raise InstrumentError(f"{name}: {where + ': ' if where else ''}{msg}.") from exc
    if instrument.id != path.stem:
        raise InstrumentError(
            f"{name}: id: {instrument.id!r} must match the file name {path.stem!r}."
        )
    return instrument


def _load_dir(directory: Path) -> dict[str, Instrument]:
    return {p.stem: load_file(p) for p in sorted(directory.glob("*.toml"))}


@functools.cache
def _shipped() -> dict[str, Instrument]:
    directory = shipped_surveys_dir()
    if not directory.is_dir():
        raise InstrumentError(
            f"The shipped survey definitions are missing ({directory}); reinstall outcomes."
        )
    return _load_dir(directory)


def load_instruments(extra_dirs: Sequence[Path] | None = None) -> dict[str, Instrument]:
    """Shipped instruments, then each extra dir's.

    A later file with the same id replaces an earlier one (user files override shipped ones).
    """
    instruments = dict(_shipped())
    for directory in extra_dirs or ():
        if directory.is_dir():
            instruments.update(_load_dir(directory))
    owner: dict[str, str] = {}
    for inst in instruments.values():
        for scale_id in inst.scales:
            if scale_id in owner:
                raise InstrumentError(
                    f"Scale id {scale_id!r} is used by both {owner[scale_id]!r} and {inst.id!r}; "
                    "rename one so every scale id is unique."
                )
            owner[scale_id] = inst.id
    return instruments


def get_instrument(
    instrument_id: str, instruments: dict[str, Instrument] | None = None
) -> Instrument:
    """The instrument with this id; InstrumentError listing the valid ids if unknown."""
    known = instruments if instruments is not None else load_instruments()
    try:
        return known[instrument_id]
    except KeyError:
        raise InstrumentError(
            f"Unknown instrument {instrument_id!r}; valid ids are: {', '.join(sorted(known))}."
        ) from None


__all__ = [
    "BODY_REGIONS",
    "Band",
    "Direction",
    "Instrument",
    "Item",
    "Mcid",
    "Mdc",
    "MissingRule",
    "Scale",
    "get_instrument",
    "load_file",
    "load_instruments",
    "possible_raw_sums",
    "shipped_surveys_dir",
]
