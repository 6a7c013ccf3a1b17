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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlite_utils import Database

from outcomes.measures import catalog, scoring
from outcomes.measures.instruments import Scale
from outcomes.periods import recent_window

# Float noise must not flip a decision at exactly the MCID (as in measures.scoring).
_EPSILON = 1e-9


@dataclass(frozen=True)
class Worsening:
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


def worse_by_mcid(scale: Scale, intake: float, latest: float) -> float | None:
    """How many points past the MCID the patient is worse (>= 0), or None when the worsening
    is less than the MCID, the scale has none, or a percent MCID meets an intake of 0."""
    if scale.mcid is None:
        return None
    loss = -scoring.improvement(scale, intake, latest)
    if scale.mcid.unit == "points":
        threshold = scale.mcid.value
    elif intake == 0:
        return None
    else:
        threshold = scale.mcid.value * abs(intake) / 100.0
    if loss <= 0 or loss < threshold - _EPSILON:
        return None
    return max(loss - threshold, 0.0)


def mcid_points(scale: Scale, intake: float) -> float | None:
    """The scale's MCID in score points for this intake score."""
    if scale.mcid is None:
        return None
    if scale.mcid.unit == "points":
        return scale.mcid.value
    return scale.mcid.value * abs(intake) / 100.0


def worsening(db: Database, today: date, visits_needed: int) -> list[Worsening]:
    """Open episodes getting worse or not improving (see the module docstring), by episode."""
    window = recent_window(today)
    known = catalog.instruments()
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
            scale = known[instrument].scales[scale_id]
            change = scoring.improvement(scale, intake[2], latest[2])
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


__all__ = ["Worsening", "mcid_points", "worse_by_mcid", "worsening"]
