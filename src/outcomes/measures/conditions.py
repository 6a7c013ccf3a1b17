"""What each episode is about: procedure, condition group and primary outcome measure.

The tables are data (``outcomes/data/conditions.toml``), checked when first read: a mistake in
the file stops with the file, the line and what is wrong, never a traceback. Three rules live
here and nowhere else:

- :meth:`Conditions.procedure`: the controlled vocabulary of surgical procedures, with the
  synonyms people type ("TKA", "TKR", "total knee" are all "Total knee arthroplasty").
- :meth:`Conditions.group`: an ICD-10-CM code -> a readable condition group by the longest
  matching prefix; no match (or no diagnosis) -> "Other <region>".
- :meth:`Conditions.primary_scale`: the one measure an episode counts on, so that an episode
  counts once in a pooled rate: the episode's own choice when it names one, else the first
  instrument of its region's list that the patient answered at intake, else the first of the
  list. Choosing among the instruments answered *at intake* (never by which ones reached a
  discharge score) keeps the choice from depending on the outcome.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from outcomes import vocab
from outcomes.errors import OutcomesError, ValidationError

DATA_FILE = "data/conditions.toml"
OTHER = "Other"

_PREFIX_RE = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{0,4})?$")


class ConditionsFileError(OutcomesError):
    """The conditions data file is broken: the message names the file and line."""


@dataclass(frozen=True)
class Procedure:
    name: str
    region: str | None
    """The body region the procedure belongs to; None when it spans several (spinal fusion)."""
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    name: str
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class Conditions:
    """The loaded tables (see the module docstring for the rules)."""

    procedures: tuple[Procedure, ...]
    groups: tuple[Group, ...]
    primary: Mapping[str, tuple[str, ...]]
    """Body region -> instrument ids, in order of preference."""
    _vocabulary: vocab.Vocabulary
    _by_prefix: tuple[tuple[str, str], ...]
    """(prefix, group name), longest prefix first."""
    _group_of: dict[str, str] = field(init=False, repr=False, compare=False)
    """Prefix -> group name, for :meth:`group`'s longest-prefix look-up."""
    _lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)
    """The prefixes' lengths, longest first."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_group_of", dict(self._by_prefix))
        object.__setattr__(self, "_lengths",
                           tuple(sorted({len(p) for p, _ in self._by_prefix}, reverse=True)))

    def procedure(self, text: str) -> str:
        """The procedure's name for what a user typed; ValidationError (field "procedure")
        listing the procedures when it is not one."""
        try:
            return self._vocabulary.normalize(text)
        except ValidationError as exc:
            raise ValidationError(str(exc), field="procedure") from None

    def procedure_words(self) -> list[str]:
        """Every procedure name and synonym, for type-ahead (the core maps each to its
        name)."""
        return [word for p in self.procedures for word in (p.name, *p.synonyms)]

    def primary_choices(self) -> list[str]:
        """The instruments the primary table names, for a picker (the core accepts any
        outcome instrument)."""
        return list(dict.fromkeys(i for listed in self.primary.values() for i in listed))

    def find_procedure(self, text: str) -> str | None:
        """:meth:`procedure`, or None for an unknown one (the fast import path)."""
        try:
            return self._vocabulary.normalize(text)
        except ValidationError:
            return None

    def group(self, diagnosis: str | None, region: str | None) -> str:
        """The condition group of an ICD-10-CM code, or "Other <region>" when no prefix of the
        table matches (or there is no diagnosis)."""
        if diagnosis:
            # The longest matching prefix: one dict look-up per prefix length (a handful),
            # not a scan of every prefix (a report classifies every episode).
            code = _code(diagnosis)
            group_of = self._group_of
            for length in self._lengths:
                name = group_of.get(code[:length])
                if name is not None:
                    return name
        return other_group(region)

    def group_names(self) -> list[str]:
        return [g.name for g in self.groups]

    def primary_instruments(self, region: str | None) -> tuple[str, ...]:
        return self.primary.get(region or "other", self.primary["other"])

    def primary_instrument(self, region: str | None, chosen: str | None,
                           answered_at_intake: Collection[str]) -> str:
        """The episode's primary instrument (module docstring)."""
        if chosen:
            return chosen
        listed = self.primary_instruments(region)
        return next((i for i in listed if i in answered_at_intake), listed[0])


def other_group(region: str | None) -> str:
    """The fallback group of a region: "Other knee", "Other low back"..."""
    if not region or region == "other":
        return "Other condition"
    return f"{OTHER} {region}"


def normalize_fields(data: MutableMapping[str, Any]) -> None:
    """Check and normalise the condition fields of an episode as typed (form, CLI, CSV), in
    place: ``procedure`` to its name in the vocabulary, ``instrument`` (the primary measure
    override) to a known outcome instrument id. ValidationError names the field."""
    text = data.get("procedure")
    if isinstance(text, str) and text.strip():
        data["procedure"] = conditions().procedure(text)
    chosen = data.get("instrument")
    if isinstance(chosen, str) and chosen.strip():
        from outcomes.measures import catalog

        known = sorted(i for i in catalog.instruments() if i != "nps")
        folded = chosen.strip().lower().replace(" ", "_").replace("-", "_")
        if folded not in known:
            raise ValidationError(f"primary measure {chosen!r} is not an outcome instrument; "
                                  f"use one of: {', '.join(known)}.", field="instrument")
        data["instrument"] = folded


def surgical_status(flag: int | bool | None, procedure: str | None) -> bool | None:
    """Whether the episode follows surgery: as recorded, else yes when a procedure is named,
    else unknown (None)."""
    if flag is not None:
        return bool(flag)
    return True if procedure else None


def _code(diagnosis: str) -> str:
    code = diagnosis.strip().upper()
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code


@cache
def conditions() -> Conditions:
    """The shipped tables, loaded and checked once per process."""
    source = resources.files("outcomes").joinpath(DATA_FILE)
    return parse(source.read_text("utf-8"), f"outcomes/{DATA_FILE}")


def parse(text: str, source: str, instruments: Collection[str] | None = None) -> Conditions:
    """Read and check a conditions file. ``instruments``: the instrument ids the primary table
    may name (default: the installed catalog's outcome instruments)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConditionsFileError(f"{source}: not valid TOML: {exc}.") from None
    where = _Locator(text, source)
    unknown = sorted(set(data) - {"procedure", "group", "primary"})
    if unknown:
        raise ConditionsFileError(
            f"{where.key(unknown[0])}: unknown table {unknown[0]!r}; the file holds "
            "[[procedure]], [[group]] and [primary].")
    regions = set(vocab.BODY_REGIONS.values)

    procedures: list[Procedure] = []
    synonyms: dict[str, tuple[str, ...]] = {}
    for index, entry in enumerate(_tables(data, "procedure", where)):
        at = where.entry("procedure", index)
        name = _text(entry, "name", at)
        region = entry.get("region", "")
        if not isinstance(region, str) or (region and region not in regions):
            raise ConditionsFileError(
                f"{where.entry('procedure', index, 'region')}: region {region!r} of {name!r} "
                f"is not a body region; use one of: {', '.join(sorted(regions))}, or \"\".")
        words = entry.get("synonyms", [])
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip()
                                                  for w in words):
            raise ConditionsFileError(
                f"{where.entry('procedure', index, 'synonyms')}: synonyms of {name!r} must be "
                "a list of words.")
        if name in synonyms:
            raise ConditionsFileError(f"{at}: procedure {name!r} is listed twice.")
        _check_extra(entry, {"name", "region", "synonyms"}, where, "procedure", index)
        procedures.append(Procedure(name, region or None, tuple(words)))
        synonyms[name] = tuple(words)
        try:
            vocab.Vocabulary("procedure", synonyms)
        except ValueError as exc:
            raise ConditionsFileError(f"{at}: {exc}.") from None
    if not procedures:
        raise ConditionsFileError(f"{source}: no [[procedure]] is listed.")

    groups: list[Group] = []
    owner: dict[str, str] = {}
    for index, entry in enumerate(_tables(data, "group", where)):
        at = where.entry("group", index)
        name = _text(entry, "name", at)
        if name.split(" ", 1)[0] == OTHER or name in {g.name for g in groups}:
            raise ConditionsFileError(
                f"{at}: group name {name!r} is listed twice or starts with {OTHER!r} (kept for "
                "the fallback groups).")
        prefixes = entry.get("prefixes")
        if not isinstance(prefixes, list) or not prefixes:
            raise ConditionsFileError(
                f"{where.entry('group', index, 'prefixes')}: group {name!r} needs a list of "
                "ICD-10-CM code prefixes.")
        for prefix in prefixes:
            if not isinstance(prefix, str) or not _PREFIX_RE.match(prefix):
                raise ConditionsFileError(
                    f"{where.entry('group', index, 'prefixes')}: {prefix!r} in group {name!r} "
                    "is not an ICD-10-CM code prefix (a letter, two digits, then optionally a "
                    "dot and up to 4 characters, e.g. M17 or M54.5).")
            if prefix in owner:
                raise ConditionsFileError(
                    f"{where.entry('group', index, 'prefixes')}: prefix {prefix} is in both "
                    f"{owner[prefix]!r} and {name!r}.")
            owner[prefix] = name
        _check_extra(entry, {"name", "prefixes"}, where, "group", index)
        groups.append(Group(name, tuple(prefixes)))

    primary_raw = data.get("primary")
    if not isinstance(primary_raw, dict):
        raise ConditionsFileError(f"{source}: the [primary] table is missing.")
    if instruments is None:
        from outcomes.measures import catalog

        instruments = [i for i in catalog.instruments() if i != "nps"]
    primary: dict[str, tuple[str, ...]] = {}
    for region, listed in primary_raw.items():
        at = where.key(region, within="primary")
        if region not in regions:
            raise ConditionsFileError(f"{at}: {region!r} is not a body region; use one of: "
                                      f"{', '.join(sorted(regions))}.")
        if not isinstance(listed, list) or not listed:
            raise ConditionsFileError(f"{at}: {region!r} needs a list of instrument ids.")
        for instrument in listed:
            if instrument not in instruments:
                raise ConditionsFileError(
                    f"{at}: {instrument!r} is not an outcome instrument; use one of: "
                    f"{', '.join(sorted(instruments))}.")
        primary[region] = tuple(listed)
    missing = sorted(regions - set(primary))
    if missing:
        raise ConditionsFileError(
            f"{where.key('primary')}: no primary measure for the region {missing[0]!r}.")

    by_prefix = tuple(sorted(((p, g.name) for g in groups for p in g.prefixes),
                             key=lambda pg: (-len(pg[0]), pg[0])))
    return Conditions(tuple(procedures), tuple(groups), primary,
                      vocab.Vocabulary("procedure", synonyms), by_prefix)


def _tables(data: dict[str, Any], name: str, where: _Locator) -> list[dict[str, Any]]:
    tables = data.get(name, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConditionsFileError(f"{where.key(name)}: {name} must be written [[{name}]].")
    return tables


def _text(entry: dict[str, Any], key: str, at: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConditionsFileError(f"{at}: {key} is missing or empty.")
    return value.strip()


def _check_extra(entry: dict[str, Any], allowed: set[str], where: _Locator, table: str,
                 index: int) -> None:
    extra = sorted(set(entry) - allowed)
    if extra:
        raise ConditionsFileError(
            f"{where.entry(table, index, extra[0])}: unknown key {extra[0]!r} in [[{table}]]; "
            f"allowed: {', '.join(sorted(allowed))}.")


class _Locator:
    """Lines of a TOML file, for messages ("file, line 12"): tomllib keeps no positions."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def _at(self, line: int | None) -> str:
        return f"{self.source}, line {line}" if line else self.source

    def entry(self, table: str, index: int, key: str | None = None) -> str:
        """The line of the ``index``-th ``[[table]]`` (or of ``key`` inside it)."""
        seen = -1
        start = None
        for number, line in enumerate(self.lines, 1):
            stripped = line.strip()
            if stripped.startswith("["):
                if start is not None:
                    break
                if stripped.replace(" ", "") == f"[[{table}]]":
                    seen += 1
                    if seen == index:
                        start = number
                        if key is None:
                            return self._at(number)
                continue
            if start is not None and key is not None and _key_of(stripped) == key:
                return self._at(number)
        return self._at(start)

    def key(self, key: str, within: str | None = None) -> str:
        """The line where ``key`` is set (inside ``[within]`` when given) or its table starts."""
        inside = within is None
        for number, line in enumerate(self.lines, 1):
            stripped = line.strip()
            if stripped.startswith("["):
                header = stripped.strip("[]").strip()
                if within is None and header == key:
                    return self._at(number)
                inside = within is None or header == within
                continue
            if inside and _key_of(stripped) == key:
                return self._at(number)
        return self._at(None)


def _key_of(line: str) -> str | None:
    if "=" not in line or line.startswith("#"):
        return None
    return line.split("=", 1)[0].strip().strip('"').strip("'")


__all__ = ["Conditions", "ConditionsFileError", "Group", "Procedure", "conditions",
           "normalize_fields", "other_group", "parse", "surgical_status"]
