"""Net Promoter analytics: overall, per partner, per clinician, per month, and by MCID status.

NPS = % promoters (9-10) minus % detractors (0-6), with the 95% margin of error from the
trinomial variance (``outcomes.stats.Nps``). Answers count in a period by their response date.
An answer belongs to a partner and a clinician through its episode; answers without an episode
count overall and in the month view only (they appear as "no episode" elsewhere).

NPS and outcomes: an answer's episode "reached the MCID" when at least one of its scales with a
published MCID reached it from intake to final score (discharge score, or a carried-forward
progress score); "did not reach" when it has such a pair and none reached; otherwise the answer
is counted under ``unknown`` only. Groups with fewer than ``min_n`` answers keep their counts
but have a null score and margin (``"suppressed": true``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, Literal

from sqlite_utils import Database

from outcomes.errors import ValidationError
from outcomes.measures.nps import category
from outcomes.reports.scorecard import check_period, nps_block
from outcomes.store import settings

By = Literal["partner", "clinician", "month"]
BY_CHOICES: tuple[str, ...] = ("partner", "clinician", "month")

_NO_PARTNER = "no referring partner"
_NO_EPISODE = "no episode"


_INDEX = {"promoter": 0, "passive": 1, "detractor": 2}
"""A category's place in the (promoters, passives, detractors) counts."""


def _category(score: int) -> int:
    return _INDEX[category(score)]


def nps_stats(
    db: Database, start: date, end: date, *, by: str | None = None, min_n: int | None = None
) -> dict[str, Any]:
    """NPS for ``start``..``end`` overall, optionally grouped ``by`` partner, clinician or month,
    and split by whether the patient's episode reached the MCID."""
    check_period(start, end)
    if by is not None and by not in BY_CHOICES:
        raise ValidationError(f"--by must be one of {', '.join(BY_CHOICES)}; got {by!r}.")
    if min_n is None:
        min_n = int(settings.get(db, "min_n"))
    period = [start.isoformat(), end.isoformat()]
    overall = [0, 0, 0]
    groups: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])
    labels: dict[Any, str] = {}
    mcid: dict[str, list[int]] = {"reached": [0, 0, 0], "not_reached": [0, 0, 0]}
    unknown = 0
    rows = db.execute(
        "SELECT n.score, substr(n.date, 1, 7), n.episode_id, e.partner_id, p.name, e.clinician,"
        " (SELECT max(o.mcid_met) FROM episode_outcomes o WHERE o.episode_id = n.episode_id"
        "  AND o.mcid_met IS NOT NULL)"
        " FROM nps_responses n LEFT JOIN episodes e ON e.id = n.episode_id"
        " LEFT JOIN partners p ON p.id = e.partner_id"
        " WHERE n.date BETWEEN ? AND ?",
        period,
    )
    for score, month, episode_id, partner_id, partner_name, clinician, met in rows:
        cat = _category(int(score))
        overall[cat] += 1
        if by == "month":
            key, label = month, month
        elif by == "partner":
            if episode_id is None:
                key, label = ("episode", None), _NO_EPISODE
            elif partner_id is None:
                key, label = ("partner", None), _NO_PARTNER
            else:
                key, label = partner_id, partner_name
        elif by == "clinician":
            if episode_id is None:
                key, label = ("episode", None), _NO_EPISODE
            else:
                key = label = clinician or "clinician not recorded"
        else:
            key = None
        if by is not None:
            groups[key][cat] += 1
            labels[key] = label
        if met is None:
            unknown += 1
        else:
            mcid["reached" if met else "not_reached"][cat] += 1

    def sort_key(item: tuple[Any, list[int]]) -> tuple[Any, ...]:
        key, counts = item
        if by == "month":
            return (str(key),)
        special = isinstance(key, tuple)
        return (special, -sum(counts), str(labels[key]).casefold())

    result: dict[str, Any] = {
        "from": period[0], "to": period[1], "min_n": min_n,
        "overall": nps_block(tuple(overall), min_n),  # type: ignore[arg-type]
        "by": by,
        "groups": [],
        "by_mcid": {
            "reached": nps_block(tuple(mcid["reached"]), min_n),  # type: ignore[arg-type]
            "not_reached": nps_block(tuple(mcid["not_reached"]), min_n),  # type: ignore[arg-type]
            "unknown": unknown,
        },
    }
    for key, counts in sorted(groups.items(), key=sort_key):
        entry: dict[str, Any] = {"key": None if isinstance(key, tuple) else key,
                                 "label": labels[key]}
        entry.update(nps_block(tuple(counts), min_n))  # type: ignore[arg-type]
        result["groups"].append(entry)
    return result


__all__ = ["BY_CHOICES", "nps_stats"]
