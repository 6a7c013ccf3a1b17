"""The stored time to recovery against a straightforward reference written here, on generated
episodes and responses: the measure an episode counts on (the summary's primary row), the day
and whether it recovered. The same data through the upgrade's backfill (migration 0011) gives
the same stored columns."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outcomes.measures import summary
from outcomes.periods import Period
from outcomes.reports import recovery
from outcomes.store.database import open_db, transaction

PERIOD = Period(date(2026, 1, 1), date(2026, 12, 31))

# Written from the definition files by hand, not read from them: scale -> (higher is better,
# MCID, MCID in percent of the intake score).
MCID = {"odi": (False, 30.0, True), "ndi": (False, 10.0, False), "nprs": (False, 2.0, False),
        "lefs": (True, 9.0, False), "koos_jr": (True, 15.1, False)}
RANGE = {"odi": 100, "ndi": 100, "nprs": 10, "lefs": 80, "koos_jr": 100}
# The shipped primary lists (data/conditions.toml) of the regions generated.
LISTED = {"low back": ["odi"], "neck": ["ndi"], "knee": ["koos_jr", "lefs"]}
TIMEPOINTS = ("intake", "progress", "discharge", "follow_up")


@dataclass(frozen=True)
class Response:
    instrument: str
    timepoint: str
    offset: int  # days from the first visit
    score: float | None


@dataclass(frozen=True)
class Generated:
    region: str
    chosen: str | None
    first_visit: date | None
    referred: date
    responses: list[Response]


def _response() -> st.SearchStrategy[Response]:
    def one(instrument: str) -> st.SearchStrategy[Response]:
        # Whole scores and a few halves; the same value repeated makes exact-MCID ties likely.
        score = st.one_of(st.none(), st.integers(0, RANGE[instrument]).map(float),
                          st.integers(0, 2 * RANGE[instrument]).map(lambda v: v / 2))
        # Days around the first visit (before it too) come often, so ties and early scores do.
        offset = st.one_of(st.integers(-4, 4), st.integers(-10, 120))
        return st.builds(Response, st.just(instrument), st.sampled_from(TIMEPOINTS), offset,
                         score)
    return st.sampled_from(sorted(MCID)).flatmap(one)


episodes = st.builds(
    Generated,
    region=st.sampled_from(sorted(LISTED)),
    chosen=st.one_of(st.none(), st.sampled_from(sorted(MCID))),
    first_visit=st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2026, 12, 1))),
    referred=st.dates(date(2025, 12, 1), date(2027, 1, 31)),
    responses=st.lists(_response(), max_size=8),
)


def reached(scale: str, intake: float, value: float) -> bool:
    better, mcid, percent = MCID[scale]
    gain = value - intake if better else intake - value
    if percent:
        return intake != 0 and gain > 0 and gain >= mcid * abs(intake) / 100 - 1e-9
    return gain >= mcid - 1e-9


def reference(e: Generated) -> tuple[str, int, bool] | None:
    """(scale, day, recovered) of one episode, or None when it is left out."""
    if e.first_visit is None or not PERIOD.start <= e.referred <= PERIOD.end:
        return None
    # Responses in the order they were stored: by date, then by insertion.
    ordered = sorted(enumerate(e.responses), key=lambda ir: (ir[1].offset, ir[0]))
    answered = {r.instrument for _i, r in ordered if r.timepoint == "intake"
                and r.score is not None}
    main = e.chosen or next((i for i in LISTED[e.region] if i in answered),
                            LISTED[e.region][0])
    scores = [r for _i, r in ordered if r.instrument == main and r.score is not None]
    intake_at = next((k for k, r in enumerate(scores) if r.timepoint == "intake"), None)
    if intake_at is None:
        return None
    intake = scores[intake_at].score
    assert intake is not None
    last = None
    for r in scores[intake_at + 1:]:
        if r.timepoint == "intake":
            continue
        assert r.score is not None
        day = max(0, r.offset)
        if reached(main, intake, r.score):
            return main, day, True
        last = day
    return None if last is None else (main, last, False)


def _store(path: Path, generated: list[Generated]) -> None:
    db = open_db(path)
    with transaction(db):
        db.execute("INSERT INTO patients (id, record_number, created_at) VALUES (1, 'M', 'now')")
        for n, e in enumerate(generated):
            first = e.first_visit.isoformat() if e.first_visit else None
            db.execute("INSERT INTO episodes (id, patient_id, referral_date, body_region,"
                       " instrument, first_visit_date, created_at, updated_at)"
                       " VALUES (?, 1, ?, ?, ?, ?, 'now', 'now')",
                       [f"E{n:03}", e.referred.isoformat(), e.region, e.chosen, first])
            base = e.first_visit or date(2026, 6, 1)
            seen = set()
            for r in e.responses:
                when = (base + timedelta(days=r.offset)).isoformat()
                if (r.instrument, r.timepoint, when) in seen:  # the natural key is unique
                    continue
                seen.add((r.instrument, r.timepoint, when))
                db.execute("INSERT INTO responses (episode_id, instrument, instrument_version,"
                           " timepoint, date, scores, scorable, created_at)"
                           " VALUES (?, ?, 'x', ?, ?, ?, 1, 'now')",
                           [f"E{n:03}", r.instrument, r.timepoint, when,
                            json.dumps({r.instrument: r.score})])
        summary.refresh(db)
    db.close()


def _dedup(e: Generated) -> Generated:
    seen = set()
    kept = []
    for r in e.responses:
        if (r.instrument, r.timepoint, r.offset) not in seen:
            seen.add((r.instrument, r.timepoint, r.offset))
            kept.append(r)
    return Generated(e.region, e.chosen, e.first_visit, e.referred, kept)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=st.lists(episodes, min_size=1, max_size=12))
def test_stored_recovery_is_the_reference(generated: list[Generated]) -> None:
    generated = [_dedup(e) for e in generated]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.db"
        _store(path, generated)
        db = open_db(path)
        found = {o.episode_id: (o.scale, o.days, o.recovered)
                 for o in recovery.observations(db, PERIOD)}
        want = {f"E{n:03}": ref for n, e in enumerate(generated)
                if (ref := reference(e)) is not None}
        assert found == want
        # The upgrade's backfill computes the same columns from the same responses.
        from outcomes.store.schema import _recovery_v11

        stored = "SELECT episode_id, scale, recovery_days, recovered FROM episode_outcomes"
        before = sorted(db.execute(stored).fetchall())
        with transaction(db):
            db.execute("UPDATE episode_outcomes SET recovery_days = NULL, recovered = NULL")
            _recovery_v11(db)
        assert sorted(db.execute(stored).fetchall()) == before
        db.close()
