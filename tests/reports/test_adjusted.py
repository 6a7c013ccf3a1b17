"""The risk model read from and stored in the database: the rows it is fitted on, the stored
history, and observed minus expected per partner."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest
from sqlite_utils import Database

from outcomes.dates import age_band
from outcomes.errors import ValidationError
from outcomes.periods import Period, default_period
from outcomes.reports import adjusted
from outcomes.reports.adjusted import fit_models, load_model, model_rows
from outcomes.store import dbinfo
from tests.clinic_fixture import add_episode, score
from tests.conftest import DEMO_TODAY


@pytest.mark.parametrize(("birth", "band"), [
    (date(2008, 3, 2), "18-29"),   # 18 on the day
    (date(2008, 3, 3), "0-17"),    # 18 tomorrow
    (date(1936, 3, 2), "90+"),     # 90 on the day
    (date(1936, 3, 3), "80-89"),
    (date(2027, 1, 1), None),      # a birth date after the visit is no age
    (None, None),
])
def test_age_band_at_the_first_visit(birth: date | None, band: str | None) -> None:
    assert age_band(birth, date(2026, 3, 2)) == band


def test_model_rows_read_the_predictors(db: Database) -> None:
    first = date(2026, 2, 1)
    # E1: onset 40 days before the first visit; E2: onset after it (unknown); E3: carried
    # forward (left out); E4: no discharge score (left out).
    add_episode(db, "E1", None, first - timedelta(days=2), 2, 6, True,
                onset_date=first - timedelta(days=40))
    add_episode(db, "E2", None, first - timedelta(days=2), 2, 6, True,
                onset_date=first + timedelta(days=5))
    add_episode(db, "E3", None, first - timedelta(days=2), 2, 3, True,
                reason="self_discharged")
    add_episode(db, "E4", None, first - timedelta(days=2), 2, 6, False)
    for eid in ("E1", "E2", "E3", "E4"):
        score(db, eid, "odi", "intake", 40, first)
    score(db, "E1", "odi", "discharge", 20, first + timedelta(days=30))
    score(db, "E2", "odi", "discharge", 50, first + timedelta(days=30))
    score(db, "E3", "odi", "progress", 30, first + timedelta(days=10))
    rows = model_rows(db, "odi", groups={"E2": "lumbar stenosis"})
    assert rows.episode_ids == ["E1", "E2"]
    one, two = rows.covariates
    assert one.onset_days == 40 and two.onset_days is None
    assert one.group == "low back" and two.group == "lumbar stenosis"
    assert one.age_band == "50-59"  # born 1970-01-01 (the fixture's default)
    assert one.surgical is None
    assert rows.improvement == [20.0, -10.0]  # ODI: lower is better


def test_fit_store_and_load_the_latest(demo_db: Database) -> None:
    first = fit_models(demo_db, scales=["odi"])
    assert [m.scale for m in first.models] == ["odi"]
    again = fit_models(demo_db, scales=["odi", "ndi"])
    stored = demo_db.execute("SELECT scale, n, validates FROM outcome_models ORDER BY id"
                             ).fetchall()
    assert [s for s, *_ in stored] == ["odi", "odi", "ndi"]  # a history, latest last
    latest = load_model(demo_db, "odi")
    assert latest is not None and latest.fitted_at == again.models[0].fitted_at
    assert set(adjusted.load_models(demo_db)) == {"odi", "ndi"}
    detail = json.loads(demo_db.execute(
        "SELECT detail FROM audit_log WHERE entity = 'outcome_models' ORDER BY id DESC"
    ).fetchone()[0])
    assert set(detail["models"]) == {"odi", "ndi"}
    assert load_model(demo_db, "lefs") is None


def test_unknown_measure_is_refused(demo_db: Database) -> None:
    with pytest.raises(ValidationError, match="No intake/discharge pairs on 'xyz'"):
        fit_models(demo_db, scales=["xyz"])


def test_observed_minus_expected_under_the_stored_model(demo_db: Database) -> None:
    period = default_period(DEMO_TODAY)
    before = adjusted.observed_minus_expected(demo_db, None, "odi", period)
    assert before.mean is None and "no model" in (before.why or "")
    fit_models(demo_db, scales=["odi"])
    model = load_model(demo_db, "odi")
    assert model is not None and model.validates
    rows = model_rows(demo_db, "odi", period=period)
    # Independent: the stored coefficients applied with numpy to the design matrix.
    x = np.asarray([model.design.row(c) for c in rows.covariates])
    expected = x @ np.asarray(model.coefficients)
    clinic = adjusted.observed_minus_expected(demo_db, None, "odi", period)
    assert clinic.n == len(rows.improvement)
    assert clinic.mean == pytest.approx(float(np.mean(np.asarray(rows.improvement)
                                                      - expected)))
    by_partner = adjusted.adjusted_by_partner(demo_db, "odi", period)
    assert sum(a.n for a in by_partner.values()) == clinic.n
    for result in by_partner.values():
        assert (result.mean is None) == (result.n < 5)


def test_tolerance_is_a_quarter_of_the_mcid() -> None:
    # NDI's MCID is 10 points (surveys/ndi.toml).
    assert adjusted.tolerance("ndi", [30.0]) == pytest.approx(2.5)
    # ODI's MCID is 30% of intake: a quarter of it at a mean intake of 40 is 3 points.
    assert adjusted.tolerance("odi", [30.0, 50.0]) == pytest.approx(0.25 * 0.30 * 40)
    assert adjusted.tolerance("no_such_scale", [1.0]) == 0.0


def test_the_migrated_schema_has_the_model_table(db: Database) -> None:
    assert dbinfo.SCHEMA_VERSION >= 9  # 0009_outcome_models
    assert "outcome_models" in db.table_names()


def test_period_and_partner_filters(demo_db: Database) -> None:
    everything = model_rows(demo_db, "odi")
    period = Period(date(2026, 6, 1), DEMO_TODAY)
    recent = model_rows(demo_db, "odi", period=period)
    assert 0 < len(recent.episode_ids) < len(everything.episode_ids)
    pid = next(p for p in recent.partner_ids if p is not None)
    mine = model_rows(demo_db, "odi", period=period, partner_id=pid)
    assert set(mine.partner_ids) == {pid}


def test_age_at_the_first_visit_is_read_as_the_rule_says(db: Database,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite computes the age; it must agree with age_band() at a birthday's edge.
    from tests import clinic_fixture

    first = date(2026, 2, 1)
    births = {"B1": date(1976, 2, 1), "B2": date(1976, 2, 2), "B3": date(2008, 2, 1),
              "B4": date(1936, 2, 2), "B5": date(2026, 3, 1)}
    for eid, birth in births.items():
        monkeypatch.setitem(clinic_fixture.PATIENTS, eid, (f"Patient {eid}", birth))
        add_episode(db, eid, None, first - timedelta(days=2), 2, 6, True)
        score(db, eid, "odi", "intake", 40, first)
        score(db, eid, "odi", "discharge", 20, first + timedelta(days=30))
    rows = model_rows(db, "odi")
    got = {e: c.age_band for e, c in zip(rows.episode_ids, rows.covariates, strict=True)}
    assert got == {eid: age_band(birth, first) for eid, birth in births.items()}
    assert got == {"B1": "50-59", "B2": "40-49", "B3": "18-29", "B4": "80-89", "B5": None}


def test_the_model_never_reads_patients(demo_db: Database) -> None:
    import sqlite3
    from typing import Any

    def deny_patients(action: int, arg1: Any, *_: Any) -> int:
        if action == sqlite3.SQLITE_READ and arg1 == "patients":
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    period = default_period(DEMO_TODAY)
    demo_db.conn.set_authorizer(deny_patients)
    try:
        result = fit_models(demo_db, scales=["odi"])
        assert result.models and result.models[0].n > 100
        rows = model_rows(demo_db, "odi")
        assert {c.age_band for c in rows.covariates} - {None}
        assert adjusted.adjusted_by_partner(demo_db, "odi", period)
    finally:
        demo_db.conn.set_authorizer(None)


def test_a_changed_birth_date_moves_the_age_band(db: Database) -> None:
    from outcomes.models import Patient
    from outcomes.network.episodes import save_patient
    from outcomes.store.database import transaction

    first = date(2026, 2, 1)
    add_episode(db, "E1", None, first - timedelta(days=2), 2, 6, True)
    score(db, "E1", "odi", "intake", 40, first)
    score(db, "E1", "odi", "discharge", 20, first + timedelta(days=30))
    assert model_rows(db, "odi").age_bands == ["50-59"]  # born 1970-01-01
    with transaction(db):
        save_patient(db, Patient(record_number="MRN-E1", name="Patient E1",
                                 birth_date=date(1950, 6, 1)))
    assert model_rows(db, "odi").age_bands == ["70-79"]


def test_everything_at_once_equals_each_measure_alone(demo_db: Database) -> None:
    fit_models(demo_db)
    period = default_period(DEMO_TODAY)
    everywhere = adjusted.adjusted_everywhere(demo_db, period)
    in_period = {s for s in everywhere if adjusted.model_rows(demo_db, s, period=period).intake}
    assert set(everywhere) == {s for s, _n in adjusted.measured_scales(demo_db)} | set(
        adjusted.load_models(demo_db))
    assert "nps" not in everywhere and len(in_period) >= 5
    shown = 0
    for scale, (partners, clinic) in everywhere.items():
        alone = adjusted.adjusted_by_partner(demo_db, scale, period)
        assert partners.keys() == alone.keys()
        for pid, figure in partners.items():
            assert figure.n == alone[pid].n and figure.why == alone[pid].why
            assert figure.mean == pytest.approx(alone[pid].mean)
            shown += figure.mean is not None
        whole = adjusted.observed_minus_expected(demo_db, None, scale, period)
        assert clinic.n == whole.n and clinic.mean == pytest.approx(whole.mean)
        assert clinic.n == sum(f.n for f in partners.values())
    assert shown >= 10
