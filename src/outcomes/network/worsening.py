"""Patients getting worse while in care: the treating clinician should know, and so should the
referrer, before the discharge summary says it.

For each open episode (status evaluated or in care) whose latest follow-up score (progress,
discharge or follow-up timepoint) is dated within the last ``RECENT_DAYS`` days, each scale with
an intake score is compared: latest against intake, signed so positive is better
(``measures.scoring.improvement``).

- ``worse_by_mcid``: on some scale the patient is worse than at intake by at least the scale's
  published MCID (points; or, for a percent MCID, that share of the intake score), the mirror
  image of ``scoring.mcid_reached``. A scale without a published MCID is never judged this way.
- ``no_improvement``: ``visits`` is at least N (setting ``no_improvement_visits``) and no scale
  has improved at all.

One finding per episode; worse-by-MCID wins, then the scale furthest past its MCID.

The rules need three facts of each scale (name, direction, MCID). :func:`scale_facts` reads
them from the definition files with ``tomllib`` alone, where the validated catalog
(``measures.catalog``) would import pydantic and build the instrument models: ~0.14 CPU s on the
dashboard's alert worker before its queue could show (issue 14), for a check that reads three
fields. It reads the same files in the same order (shipped, then the user's ``surveys/``, same
id wins) and gives way to the catalog at the first thing it does not expect (a file it cannot
read, a missing or mistyped fact, a scale id used twice), so a definition the catalog rejects
for those reasons still fails here with the catalog's error. A file broken in a way these facts
do not touch (an item out of range) is reported by the commands and screens that score with it,
not by the alert queue. What it reads is kept in the user's cache folder with each file's
modification time and size (:func:`_cached_facts`), so a start with unchanged files parses none.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from outcomes.periods import recent_window

if TYPE_CHECKING:
    from sqlite_utils import Database

    from outcomes.measures.instruments import Scale

# Float noise must not flip a decision at exactly the MCID (as in measures.scoring).
_EPSILON = 1e-9


@dataclass(frozen=True)
class Worsening:
    """A patient getting worse, or not better, on a measure since intake."""

    episode_id: str
    partner_id: int | None
    clinician: str | None
    reason: str
    """worse_by_mcid | no_improvement"""
    instrument: str
    scale: str
    scale_name: str
    intake: float
    intake_date: str
    latest: float
    latest_date: str
    improvement: float
    """Signed: positive is better (negative here)."""
    mcid: float | None
    """The worsening that counts, in score points (None when the scale has no MCID)."""
    mcid_unit: str | None
    visits: int | None


class Mcid(NamedTuple):
    value: float
    unit: str
    """points | percent"""


@dataclass(frozen=True, slots=True)
class ScaleFacts:
    """What the rules read of a scale (``measures.instruments.Scale``), without pydantic."""

    name: str
    higher_is_better: bool
    mcid: Mcid | None


def _higher_is_better(scale: Scale | ScaleFacts) -> bool:
    if isinstance(scale, ScaleFacts):
        return scale.higher_is_better
    return scale.direction == "higher_is_better"   # a StrEnum: equal to its value


def improvement(scale: Scale | ScaleFacts, intake: float, latest: float) -> float:
    """``measures.scoring.improvement`` (signed: positive is better), for either form."""
    change = latest - intake
    return change if _higher_is_better(scale) else -change


def worse_by_mcid(scale: Scale | ScaleFacts, intake: float, latest: float) -> float | None:
    """How many points past the MCID the patient is worse (>= 0), or None when the worsening
    is less than the MCID, the scale has none, or a percent MCID meets an intake of 0."""
    if scale.mcid is None:
        return None
    loss = -improvement(scale, intake, latest)
    if scale.mcid.unit == "points":
        threshold = scale.mcid.value
    elif intake == 0:
        return None
    else:
        threshold = scale.mcid.value * abs(intake) / 100.0
    if loss <= 0 or loss < threshold - _EPSILON:
        return None
    return max(loss - threshold, 0.0)


def mcid_points(scale: Scale | ScaleFacts, intake: float) -> float | None:
    """The scale's MCID in score points for this intake score."""
    if scale.mcid is None:
        return None
    if scale.mcid.unit == "points":
        return scale.mcid.value
    return scale.mcid.value * abs(intake) / 100.0


def _facts(data: dict[str, Any], stem: str) -> dict[str, ScaleFacts] | None:
    """One definition's scale facts, or None at anything the catalog might reject."""
    scales = data.get("scales")
    if data.get("id") != stem or not isinstance(scales, dict) or not scales \
            or (len(scales) == 1 and stem not in scales):
        return None
    out: dict[str, ScaleFacts] = {}
    for scale_id, scale in scales.items():
        if not isinstance(scale, dict):
            return None
        name, direction, mcid = scale.get("name"), scale.get("direction"), scale.get("mcid")
        if not isinstance(name, str) or not name \
                or direction not in ("higher_is_better", "higher_is_worse"):
            return None
        if mcid is None:
            out[scale_id] = ScaleFacts(name, direction == "higher_is_better", None)
            continue
        if not isinstance(mcid, dict):
            return None
        value, unit = mcid.get("value"), mcid.get("unit")
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 \
                or unit not in ("points", "percent"):
            return None
        out[scale_id] = ScaleFacts(name, direction == "higher_is_better",
                                   Mcid(float(value), unit))
    return out


def _read_facts(files: tuple[tuple[Path, int, int], ...]
                ) -> dict[str, dict[str, ScaleFacts]] | None:
    import tomllib  # only when the cache (_cached_facts) does not hold these files

    known: dict[str, dict[str, ScaleFacts]] = {}
    for path, _, _ in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        facts = _facts(data, path.stem)
        if facts is None:
            return None
        known[path.stem] = facts
    scale_ids = [s for facts in known.values() for s in facts]
    return known if len(set(scale_ids)) == len(scale_ids) else None


def catalog_facts() -> dict[str, dict[str, ScaleFacts]]:
    """The same facts from the validated catalog (raises its InstrumentError)."""
    from outcomes.measures import catalog

    return {iid: {sid: ScaleFacts(s.name, _higher_is_better(s),
                                  None if s.mcid is None else Mcid(s.mcid.value, s.mcid.unit))
                  for sid, s in inst.scales.items()}
            for iid, inst in catalog.instruments().items()}


def scale_facts() -> dict[str, dict[str, ScaleFacts]]:
    """Each known instrument's scales (instrument id, scale id), as ``catalog.instruments()``
    gives them; see the module docstring. Read again when a file changes (a stat per file)."""
    from outcomes.paths import shipped_surveys_dir, user_surveys_dir

    shipped = shipped_surveys_dir()
    if not shipped.is_dir():
        return catalog_facts()   # its error names the missing folder
    user = user_surveys_dir()
    files = []
    for directory in (shipped, *([user] if user.is_dir() else [])):
        for path in sorted(directory.glob("*.toml")):
            try:
                stat = path.stat()
            except OSError:
                return catalog_facts()
            files.append((path, stat.st_mtime_ns, stat.st_size))
    return _facts_of(tuple(files))


@functools.lru_cache(maxsize=4)
def _facts_of(files: tuple[tuple[Path, int, int], ...]) -> dict[str, dict[str, ScaleFacts]]:
    cached = _cached_facts(files)
    if cached is not None:
        return cached
    found = _read_facts(files)
    if found is None:
        return catalog_facts()
    _cache_facts(files, found)
    return found


# The facts of the definition files as last read, keyed by each file's path, modification
# time and size (as Python keys its bytecode cache): parsing the ten shipped files with
# tomllib took 12-15 ms of the dashboard's alert worker at every start, for three fields a
# scale. Version 1: {"version", "files": [[path, mtime_ns, size]...], "facts": {instrument:
# {scale: [name, higher_is_better, mcid value or null, mcid unit or null]}}}.
_CACHE_VERSION = 1
_CACHE_FILE = "scale-facts.json"


def _files_key(files: tuple[tuple[Path, int, int], ...]) -> list[list[Any]]:
    return [[str(path), mtime, size] for path, mtime, size in files]


def _cached_facts(files: tuple[tuple[Path, int, int], ...]
                  ) -> dict[str, dict[str, ScaleFacts]] | None:
    """The cached facts of exactly these files, or None (no cache, another key, unreadable:
    the files are read)."""
    from outcomes.paths import cache_dir

    try:
        data = json.loads((cache_dir() / _CACHE_FILE).read_text(encoding="utf-8"))
        if data["version"] != _CACHE_VERSION or data["files"] != _files_key(files):
            return None
        return {iid: {sid: ScaleFacts(name, bool(higher),
                                      None if value is None else Mcid(float(value), unit))
                      for sid, (name, higher, value, unit) in scales.items()}
                for iid, scales in data["facts"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _cache_facts(files: tuple[tuple[Path, int, int], ...],
                 facts: dict[str, dict[str, ScaleFacts]]) -> None:
    """Keep ``facts`` for the next start; a cache that cannot be written is not kept."""
    from outcomes.paths import cache_dir

    data = {"version": _CACHE_VERSION, "files": _files_key(files),
            "facts": {iid: {sid: [f.name, f.higher_is_better,
                                  None if f.mcid is None else f.mcid.value,
                                  None if f.mcid is None else f.mcid.unit]
                            for sid, f in scales.items()}
                      for iid, scales in facts.items()}}
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Written whole under another name, then renamed: a reader never sees half a file.
        temporary = folder / f".{_CACHE_FILE}.{os.getpid()}"
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, folder / _CACHE_FILE)
    except OSError:
        return


def worsening(db: Database, today: date, visits_needed: int) -> list[Worsening]:
    """Open episodes getting worse or not improving (see the module docstring), by episode."""
    window = recent_window(today)
    known = scale_facts()
    episodes = {row[0]: row for row in db.execute(
        "SELECT e.id, e.partner_id, e.clinician, e.visits FROM episodes e"
        " WHERE e.status IN ('evaluated', 'in_care') AND EXISTS (SELECT 1 FROM responses r"
        "   WHERE r.episode_id = e.id AND r.timepoint != 'intake'"
        "   AND r.date BETWEEN ? AND ?)"
        # In table order, as the whole-table read gave them before the open-episode index
        # (migration 0013): the alerts keep their order.
        " ORDER BY e.rowid", list(window.iso()))}
    if not episodes:
        return []
    scored: dict[str, dict[tuple[str, str], list[tuple[str, str, float]]]] = {}
    ids = list(episodes)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for eid, instrument, timepoint, when, scores in db.execute(
            "SELECT episode_id, instrument, timepoint, date, scores FROM responses"
            f" WHERE episode_id IN ({', '.join('?' for _ in chunk)}) AND date <= ?"
            " ORDER BY episode_id, date, id", [*chunk, window.end.isoformat()],
        ):
            if instrument not in known:
                continue
            for scale_id, value in json.loads(scores).items():
                if value is not None:
                    scored.setdefault(eid, {}).setdefault((instrument, scale_id), []).append(
                        (timepoint, when, float(value)))
    out = []
    for eid, (_, pid, clinician, visits) in episodes.items():
        findings: list[tuple[int, float, Worsening]] = []
        improved = False
        for (instrument, scale_id), points in sorted(scored.get(eid, {}).items()):
            intake = next((p for p in points if p[0] == "intake"), None)
            later = [p for p in points if p[0] != "intake"]
            if intake is None or not later or later[-1][1] < window.start.isoformat():
                continue
            latest = later[-1]
            scale = known[instrument][scale_id]
            change = improvement(scale, intake[2], latest[2])
            improved = improved or change > _EPSILON
            past = worse_by_mcid(scale, intake[2], latest[2])
            finding = Worsening(
                eid, pid, clinician, "worse_by_mcid" if past is not None else "no_improvement",
                instrument, scale_id, scale.name, intake[2], intake[1], latest[2], latest[1],
                change, mcid_points(scale, intake[2]),
                scale.mcid.unit if scale.mcid else None, visits)
            findings.append((0 if past is not None else 1,
                             -(past if past is not None else 0.0) if past is not None
                             else change, finding))
        if not findings:
            continue
        findings.sort(key=lambda f: (f[0], f[1]))
        rank, _, best = findings[0]
        if rank == 0 or (not improved and visits is not None and visits >= visits_needed):
            out.append(best)
    return out


__all__ = ["Mcid", "ScaleFacts", "Worsening", "catalog_facts", "improvement", "mcid_points",
           "scale_facts", "worse_by_mcid", "worsening"]
