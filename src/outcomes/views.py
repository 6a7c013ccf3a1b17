"""Read-only queries that feed the dashboard's screens.

Pure and typed: each function takes the database and an explicit ``today`` (or period) and
returns plain dataclasses. Nothing here writes, and nothing here knows about Textual. Lists that
can grow (partners, episodes) are filtered, sorted and paged in SQL, so a screen never loads more
than one page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database

from . import vocab
from .stats import Nps

RECENT_DAYS = 90
BASELINE_DAYS = 365
OUTCOME_WINDOW_DAYS = 365


# --- months ------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def month_keys(today: date, months: int) -> list[str]:
    """'YYYY-MM' for the ``months`` months ending with today's month, oldest first."""
    first = add_months(today, -(months - 1))
    return [add_months(first, i).strftime("%Y-%m") for i in range(months)]


def referrals_per_month(
    db: Database, today: date, months: int = 24, partner_id: int | None = None
) -> list[tuple[str, int]]:
    """Inbound referrals per calendar month, zero-filled, oldest first, up to ``today``."""
    keys = month_keys(today, months)
    where = "referral_date >= ? AND referral_date <= ?"
    params: list[Any] = [f"{keys[0]}-01", today.isoformat()]
    if partner_id is not None:
        where += " AND partner_id = ?"
        params.append(partner_id)
    counts = dict(
        db.execute(
            f"SELECT substr(referral_date, 1, 7), count(*) FROM episodes WHERE {where} GROUP BY 1",
            params,
        ).fetchall()
    )
    return [(k, int(counts.get(k, 0))) for k in keys]


# --- dashboard ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A share with its denominator (``rate`` is None when n is 0)."""

    met: int
    n: int

    @property
    def rate(self) -> float | None:
        return self.met / self.n if self.n else None


@dataclass(frozen=True)
class DashboardSummary:
    today: date
    month_to_date: int
    """Referrals from the 1st of this month to today."""
    last_month_same_days: int
    """Referrals in the same days (1st to today's day) of last month."""
    last_month_total: int
    year_ago_same_days: int
    """Referrals in the same days of the same month a year ago."""
    year_ago_total: int
    active_partners: int
    """Partners with at least one referral in the last 90 days."""
    partners_total: int
    mcid: Rate
    """Episodes referred in the last 12 months with an intake and final score that reached MCID."""
    nps: Nps
    """NPS answers dated in the last 12 months."""
    per_month: list[tuple[str, int]] = field(default_factory=list)


def _count_referrals(db: Database, start: date, end: date) -> int:
    return int(
        db.execute(
            "SELECT count(*) FROM episodes WHERE referral_date >= ? AND referral_date <= ?",
            [start.isoformat(), end.isoformat()],
        ).fetchone()[0]
    )


def _same_day(month_first: date, day: int) -> date:
    """``day`` in the month starting ``month_first``, clamped to the month's last day."""
    last = add_months(month_first, 1) - timedelta(days=1)
    return month_first.replace(day=min(day, last.day))


def clinic_mcid(db: Database, start: date, end: date, partner_id: int | None = None) -> Rate:
    where = "referral_date >= ? AND referral_date <= ? AND improvement IS NOT NULL"
    params: list[Any] = [start.isoformat(), end.isoformat()]
    if partner_id is not None:
        where += " AND partner_id = ?"
        params.append(partner_id)
    # One episode can have several scales (PROMIS-10): count an episode once, as met when its
    # first scale (by id) met the MCID, so n counts episodes.
    row = db.execute(
        "SELECT count(*), coalesce(sum(met), 0) FROM (SELECT episode_id, "
        "min(scale) AS scale, max(mcid_met) AS met FROM episode_outcomes "
        f"WHERE {where} GROUP BY episode_id)",
        params,
    ).fetchone()
    return Rate(met=int(row[1]), n=int(row[0]))


def nps_between(db: Database, start: date, end: date, partner_id: int | None = None) -> Nps:
    sql = (
        "SELECT coalesce(sum(n.score >= 9), 0), coalesce(sum(n.score BETWEEN 7 AND 8), 0),"
        " coalesce(sum(n.score <= 6), 0) FROM nps_responses n"
    )
    params: list[Any] = [start.isoformat(), end.isoformat()]
    if partner_id is not None:
        sql += " JOIN episodes e ON e.id = n.episode_id WHERE e.partner_id = ? AND"
        params.insert(0, partner_id)
    else:
        sql += " WHERE"
    sql += " n.date >= ? AND n.date <= ?"
    p, m, d = db.execute(sql, params).fetchone()
    return Nps(promoters=int(p), passives=int(m), detractors=int(d))


def dashboard_summary(db: Database, today: date) -> DashboardSummary:
    """The numbers at the top of the dashboard, all relative to ``today``."""
    this_month = month_start(today)
    last_month = add_months(today, -1)
    year_ago = add_months(today, -12)
    year_start = today - timedelta(days=OUTCOME_WINDOW_DAYS)
    active = db.execute(
        "SELECT count(DISTINCT partner_id) FROM episodes WHERE partner_id IS NOT NULL"
        " AND referral_date > ? AND referral_date <= ?",
        [(today - timedelta(days=RECENT_DAYS)).isoformat(), today.isoformat()],
    ).fetchone()[0]
    return DashboardSummary(
        today=today,
        month_to_date=_count_referrals(db, this_month, today),
        last_month_same_days=_count_referrals(db, last_month, _same_day(last_month, today.day)),
        last_month_total=_count_referrals(db, last_month, this_month - timedelta(days=1)),
        year_ago_same_days=_count_referrals(db, year_ago, _same_day(year_ago, today.day)),
        year_ago_total=_count_referrals(
            db, year_ago, add_months(year_ago, 1) - timedelta(days=1)
        ),
        active_partners=int(active),
        partners_total=int(db.execute("SELECT count(*) FROM partners").fetchone()[0]),
        mcid=clinic_mcid(db, year_start, today),
        nps=nps_between(db, year_start, today),
        per_month=referrals_per_month(db, today, 24),
    )


# --- partners -----------------------------------------------------------------------------------

PARTNER_SORTS: dict[str, str] = {
    "name": "name COLLATE NOCASE",
    "kind": "kind, name COLLATE NOCASE",
    "stage": "stage, name COLLATE NOCASE",
    "recent": "recent",
    "trend": "trend_ratio",
    "last_touch": "last_touch",
    "nps": "nps",
    "mcid": "mcid_rate",
}
"""Sort keys for :func:`partners_page` and the SQL each one orders by."""


@dataclass(frozen=True)
class PartnerRow:
    id: int
    name: str
    organization: str | None
    kind: str
    stage: str
    recent: int
    """Referrals in the last 90 days."""
    baseline_per_90: float
    """The 365 days before those 90, scaled to 90 days."""
    last_touch: str | None
    nps: float | None
    nps_n: int
    mcid_rate: float | None
    mcid_n: int

    @property
    def trend(self) -> str:
        """An arrow for the table: up/down when the last 90 days differ from the baseline by a
        quarter or more (display only; the alert queue applies the statistical test)."""
        if self.baseline_per_90 == 0:
            return "↑" if self.recent else " "
        ratio = self.recent / self.baseline_per_90
        if ratio >= 1.25:
            return "↑"
        if ratio <= 0.75:
            return "↓"
        return "→"


@dataclass(frozen=True)
class PartnerPage:
    rows: list[PartnerRow]
    matched: int
    """Partners matching the filter."""
    total: int
    """All partners."""
    offset: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def partners_page(
    db: Database,
    today: date,
    *,
    text: str = "",
    sort: str = "name",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> PartnerPage:
    """One page of the partner table, filtered (name, organisation, kind, stage, NPI, city),
    sorted and paged in SQL."""
    if sort not in PARTNER_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    t = today.isoformat()
    recent_start = (today - timedelta(days=RECENT_DAYS)).isoformat()
    base_start = (today - timedelta(days=RECENT_DAYS + BASELINE_DAYS)).isoformat()
    year_start = (today - timedelta(days=OUTCOME_WINDOW_DAYS)).isoformat()
    where = ""
    named: dict[str, Any] = {}
    clauses = []
    for i, word in enumerate(text.split()):
        named[f"w{i}"] = _like(word)
        clauses.append(
            "(" + " OR ".join(
                f"coalesce({col}, '') LIKE :w{i} ESCAPE '\\'"
                for col in ("name", "organization", "kind", "stage", "npi", "city")
            ) + ")"
        )
    if clauses:
        where = "WHERE " + " AND ".join(clauses)
    matched = int(db.execute(f"SELECT count(*) FROM partners {where}", named).fetchone()[0])
    total = int(db.execute("SELECT count(*) FROM partners").fetchone()[0])
    direction = "DESC" if descending else "ASC"
    order = ", ".join(f"{part.strip()} {direction}" for part in PARTNER_SORTS[sort].split(","))
    sql = f"""
    WITH p AS (SELECT * FROM partners {where}),
    agg AS (
      SELECT p.id, p.name, p.organization, p.kind, p.stage,
        (SELECT count(*) FROM episodes e WHERE e.partner_id = p.id
           AND e.referral_date > :recent AND e.referral_date <= :today) AS recent,
        (SELECT count(*) FROM episodes e WHERE e.partner_id = p.id
           AND e.referral_date > :base AND e.referral_date <= :recent) AS baseline,
        (SELECT max(date) FROM touchpoints tp WHERE tp.partner_id = p.id
           AND tp.date <= :today) AS last_touch,
        (SELECT count(*) FROM episode_outcomes o WHERE o.partner_id = p.id
           AND o.improvement IS NOT NULL AND o.referral_date > :year
           AND o.referral_date <= :today) AS mcid_n,
        (SELECT sum(o.mcid_met) FROM episode_outcomes o WHERE o.partner_id = p.id
           AND o.improvement IS NOT NULL AND o.referral_date > :year
           AND o.referral_date <= :today) AS mcid_met,
        (SELECT count(*) FROM nps_responses n JOIN episodes e ON e.id = n.episode_id
           WHERE e.partner_id = p.id AND n.date > :year AND n.date <= :today) AS nps_n,
        (SELECT sum(CASE WHEN n.score >= 9 THEN 1 WHEN n.score <= 6 THEN -1 ELSE 0 END)
           FROM nps_responses n JOIN episodes e ON e.id = n.episode_id
           WHERE e.partner_id = p.id AND n.date > :year AND n.date <= :today) AS nps_net
      FROM p
    )
    SELECT *,
      CASE WHEN nps_n > 0 THEN 100.0 * nps_net / nps_n END AS nps,
      CASE WHEN mcid_n > 0 THEN 1.0 * mcid_met / mcid_n END AS mcid_rate,
      CASE WHEN baseline > 0 THEN recent * 1.0 / (baseline * {RECENT_DAYS}.0 / {BASELINE_DAYS})
           ELSE recent * 1000.0 END AS trend_ratio
    FROM agg ORDER BY {order}, id LIMIT :limit OFFSET :offset
    """
    named.update(
        today=t, recent=recent_start, base=base_start, year=year_start,
        limit=max(1, limit), offset=max(0, offset),
    )
    cursor = db.execute(sql, named)
    columns = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        r = dict(zip(columns, values, strict=True))
        rows.append(
            PartnerRow(
                id=r["id"], name=r["name"], organization=r["organization"], kind=r["kind"],
                stage=r["stage"], recent=int(r["recent"]),
                baseline_per_90=int(r["baseline"]) * RECENT_DAYS / BASELINE_DAYS,
                last_touch=r["last_touch"], nps=r["nps"], nps_n=int(r["nps_n"]),
                mcid_rate=r["mcid_rate"], mcid_n=int(r["mcid_n"]),
            )
        )
    return PartnerPage(rows=rows, matched=matched, total=total, offset=max(0, offset))


def partner_choices(db: Database) -> list[tuple[int, str, str]]:
    """(id, name, stage) of every partner, by name: for pickers."""
    return [
        (int(r[0]), str(r[1]), str(r[2]))
        for r in db.execute("SELECT id, name, stage FROM partners ORDER BY name COLLATE NOCASE")
    ]


@dataclass(frozen=True)
class ScaleOutcome:
    scale: str
    instrument: str
    n: int
    mean_improvement: float | None
    mcid: Rate
    clinic_n: int
    clinic_mean_improvement: float | None
    clinic_mcid: Rate


@dataclass(frozen=True)
class PartnerDetail:
    partner: dict[str, Any]
    today: date
    per_month: list[tuple[str, int]]
    outcomes: list[ScaleOutcome]
    nps: Nps
    touchpoints: list[dict[str, Any]]
    referrals_in: list[dict[str, Any]]
    referrals_out: list[dict[str, Any]]
    communications: list[dict[str, Any]]
    referrals_in_total: int
    referrals_out_total: int


def _outcomes_by_scale(
    db: Database, start: date, end: date, partner_id: int | None
) -> dict[str, tuple[str, int, float | None, int]]:
    where = "improvement IS NOT NULL AND referral_date > ? AND referral_date <= ?"
    params: list[Any] = [start.isoformat(), end.isoformat()]
    if partner_id is not None:
        where += " AND partner_id = ?"
        params.append(partner_id)
    return {
        r[0]: (r[1], int(r[2]), r[3], int(r[4] or 0))
        for r in db.execute(
            "SELECT scale, instrument, count(*), avg(improvement), sum(mcid_met)"
            f" FROM episode_outcomes WHERE {where} GROUP BY scale, instrument",
            params,
        )
    }


def partner_detail(db: Database, partner_id: int, today: date, rows: int = 50) -> PartnerDetail:
    """Everything the partner screen shows: contact, outcomes against the clinic (last 12 months),
    NPS, and the latest touchpoints, referrals and communications (``rows`` of each)."""
    from .partners import get_partner

    partner = get_partner(db, partner_id)
    start = today - timedelta(days=OUTCOME_WINDOW_DAYS)
    mine = _outcomes_by_scale(db, start, today, partner_id)
    clinic = _outcomes_by_scale(db, start, today, None)
    outcomes = []
    for scale, (instrument, n, mean, met) in sorted(mine.items()):
        c = clinic.get(scale, (instrument, 0, None, 0))
        outcomes.append(
            ScaleOutcome(scale, instrument, n, mean, Rate(met, n), c[1], c[2], Rate(c[3], c[1]))
        )

    def rows_of(sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cursor = db.execute(sql, params)
        cols = [d[0] for d in cursor.description]
        return [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]

    return PartnerDetail(
        partner=partner,
        today=today,
        per_month=referrals_per_month(db, today, 24, partner_id),
        outcomes=outcomes,
        nps=nps_between(db, start, today, partner_id),
        touchpoints=rows_of(
            "SELECT id, date, method, who, summary, amount, next_follow_up FROM touchpoints"
            " WHERE partner_id = ? ORDER BY date DESC, id DESC LIMIT ?", [partner_id, rows]),
        referrals_in=rows_of(
            "SELECT id, referral_date, body_region, diagnosis, status, discharge_date"
            " FROM episodes WHERE partner_id = ? ORDER BY referral_date DESC, id DESC LIMIT ?",
            [partner_id, rows]),
        referrals_out=rows_of(
            "SELECT id, date, episode_id, reason FROM outbound_referrals WHERE partner_id = ?"
            " ORDER BY date DESC, id DESC LIMIT ?", [partner_id, rows]),
        communications=rows_of(
            "SELECT id, date, kind, channel, episode_id, note FROM communications"
            " WHERE partner_id = ? ORDER BY date DESC, id DESC LIMIT ?", [partner_id, rows]),
        referrals_in_total=int(db.execute(
            "SELECT count(*) FROM episodes WHERE partner_id = ?", [partner_id]).fetchone()[0]),
        referrals_out_total=int(db.execute(
            "SELECT count(*) FROM outbound_referrals WHERE partner_id = ?",
            [partner_id]).fetchone()[0]),
    )


# --- episodes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeRow:
    id: str
    record_number: str
    patient: str | None
    referral_date: str
    partner: str | None
    body_region: str
    status: str
    instrument: str | None


def find_episodes(db: Database, text: str = "", limit: int = 50) -> list[EpisodeRow]:
    """Episodes whose id, record number or patient name contains every word of ``text``,
    newest referral first (at most ``limit``)."""
    clauses = []
    params: list[Any] = []
    for word in text.split():
        clauses.append(
            "(e.id LIKE ? ESCAPE '\\' OR pt.record_number LIKE ? ESCAPE '\\'"
            " OR coalesce(pt.name, '') LIKE ? ESCAPE '\\')"
        )
        params.extend([_like(word)] * 3)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    params.append(max(1, limit))
    return [
        EpisodeRow(*r)
        for r in db.execute(
            "SELECT e.id, pt.record_number, pt.name, e.referral_date, pa.name, e.body_region,"
            " e.status, e.instrument FROM episodes e JOIN patients pt ON pt.id = e.patient_id"
            f" LEFT JOIN partners pa ON pa.id = e.partner_id {where}"
            " ORDER BY e.referral_date DESC, e.id DESC LIMIT ?",
            params,
        )
    ]


@dataclass(frozen=True)
class ResponseRow:
    id: int
    instrument: str
    timepoint: str
    date: str
    scores: dict[str, float | None]
    scorable: bool
    reason: str | None
    answers: list[int | None] | None


@dataclass(frozen=True)
class EpisodeDetail:
    episode: dict[str, Any]
    record_number: str
    patient: str | None
    partner: str | None
    responses: list[ResponseRow]
    nps: list[dict[str, Any]]
    letters: list[dict[str, Any]]

    def trajectory(self, scale: str) -> list[tuple[str, float]]:
        """(date, score) of every scored response on ``scale``, in date order."""
        return [
            (r.date, float(v))
            for r in sorted(self.responses, key=lambda r: (r.date, r.id))
            if (v := r.scores.get(scale)) is not None
        ]

    def scales(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.responses:
            for s, v in r.scores.items():
                if v is not None:
                    seen[s] = None
        return list(seen)


def episode_detail(db: Database, episode_id: str) -> EpisodeDetail:
    from .episodes import get_episode

    episode = get_episode(db, episode_id)
    pt = db.execute(
        "SELECT record_number, name FROM patients WHERE id = ?", [episode["patient_id"]]
    ).fetchone()
    partner = None
    if episode["partner_id"] is not None:
        row = db.execute("SELECT name FROM partners WHERE id = ?", [episode["partner_id"]])
        partner = row.fetchone()[0]
    responses = [
        ResponseRow(
            id=r[0], instrument=r[1], timepoint=r[2], date=r[3], scores=json.loads(r[4]),
            scorable=bool(r[5]), reason=r[6], answers=json.loads(r[7]) if r[7] else None,
        )
        for r in db.execute(
            "SELECT id, instrument, timepoint, date, scores, scorable, reason, answers"
            " FROM responses WHERE episode_id = ? ORDER BY date, id", [episode_id])
    ]
    nps = [
        {"date": r[0], "score": r[1], "comment": r[2]}
        for r in db.execute(
            "SELECT date, score, comment FROM nps_responses WHERE episode_id = ? ORDER BY date",
            [episode_id])
    ]
    letters = [
        {"date": r[0], "kind": r[1], "channel": r[2], "partner": r[3], "note": r[4]}
        for r in db.execute(
            "SELECT c.date, c.kind, c.channel, p.name, c.note FROM communications c"
            " JOIN partners p ON p.id = c.partner_id WHERE c.episode_id = ? ORDER BY c.date",
            [episode_id])
    ]
    return EpisodeDetail(
        episode=episode, record_number=pt[0], patient=pt[1], partner=partner,
        responses=responses, nps=nps, letters=letters,
    )


def next_timepoint(detail: EpisodeDetail, instrument: str) -> str:
    """The timepoint a new response most likely is: intake first; after a discharge response,
    follow-up; discharge once the episode is discharged; otherwise progress."""
    taken = {r.timepoint for r in detail.responses if r.instrument == instrument}
    if "intake" not in taken:
        return "intake"
    if "discharge" in taken:
        return "follow_up"
    if detail.episode.get("status") == "discharged":
        return "discharge"
    return "progress"


def default_instrument(detail: EpisodeDetail, region_default: dict[str, str]) -> str | None:
    """The episode's own instrument, else the one its responses use, else the region's usual one."""
    if detail.episode.get("instrument"):
        return str(detail.episode["instrument"])
    for r in detail.responses:
        return r.instrument
    return region_default.get(str(detail.episode.get("body_region")))


REGION_INSTRUMENT = vocab.DEFAULT_INSTRUMENT_BY_REGION


__all__ = [
    "PARTNER_SORTS",
    "REGION_INSTRUMENT",
    "DashboardSummary",
    "EpisodeDetail",
    "EpisodeRow",
    "PartnerDetail",
    "PartnerPage",
    "PartnerRow",
    "Rate",
    "ResponseRow",
    "ScaleOutcome",
    "add_months",
    "clinic_mcid",
    "dashboard_summary",
    "default_instrument",
    "episode_detail",
    "find_episodes",
    "month_keys",
    "next_timepoint",
    "nps_between",
    "partner_choices",
    "partner_detail",
    "partners_page",
    "referrals_per_month",
]
