"""The scorecard's evidence figures (``--evidence``): each partner's time to recovery and
observed minus expected are the same figures as the one-partner readers give, which read the
database their own way (one partner's rows, not one read for all)."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from outcomes.periods import default_period
from outcomes.reports.adjusted import fit_models, observed_minus_expected
from outcomes.reports.recovery import recovery_curve
from outcomes.reports.scorecard import scorecard
from tests.cli_helpers import run_cli
from tests.conftest import DEMO_TODAY


def test_evidence_per_partner_equals_the_one_partner_readers(demo_db: Database) -> None:
    fit_models(demo_db)
    period = default_period(DEMO_TODAY)
    card = scorecard(demo_db, period.start, period.end, evidence=True)
    plain = scorecard(demo_db, period.start, period.end)
    assert "time_to_recovery" not in plain.as_dict()["clinic"]
    clinic = card.clinic
    assert clinic.time_to_recovery == recovery_curve(demo_db, None, period)
    checked = 0
    for p in card.partners:
        alone_curve = recovery_curve(demo_db, p.partner_id, period)
        if alone_curve.n:
            assert p.time_to_recovery == alone_curve
        else:
            assert p.time_to_recovery.n == 0 and p.time_to_recovery.median_days is None
        for scale, adjusted in (p.adjusted or {}).items():
            alone = observed_minus_expected(demo_db, p.partner_id, scale, period)
            assert adjusted.n == alone.n
            if alone.mean is None:
                assert adjusted.mean is None
            else:
                assert adjusted.mean == pytest.approx(alone.mean)
                assert adjusted.ci95 == pytest.approx(alone.ci95)
                checked += 1
    assert checked >= 10  # the demo has enough partners with shown figures to compare


def test_the_cli_prints_the_evidence_block(demo_db: Database, demo_db_path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    fit_models(demo_db)
    out = run_cli(capsys, "--db", str(demo_db_path), "scorecard", "--evidence",
                  "--to", DEMO_TODAY.isoformat())
    assert out.code == 0 and "Time to recovery" in out.out and " wk (" in out.out


def test_recovery_alone_is_the_evidence_time_to_recovery_without_the_model(
        demo_db: Database) -> None:
    fit_models(demo_db)
    period = default_period(DEMO_TODAY)
    both = scorecard(demo_db, period.start, period.end, evidence=True).as_dict()
    alone = scorecard(demo_db, period.start, period.end, recovery=True).as_dict()
    plain = scorecard(demo_db, period.start, period.end).as_dict()
    assert "observed_minus_expected" in both["clinic"]
    for block in (alone["clinic"], *alone["partners"]):
        assert "observed_minus_expected" not in block and "time_to_recovery" in block
    assert [b["time_to_recovery"] for b in (alone["clinic"], *alone["partners"])] == [
        b["time_to_recovery"] for b in (both["clinic"], *both["partners"])]
    assert "time_to_recovery" not in plain["clinic"]
    assert alone["clinic"]["time_to_recovery"]["n"] > 0


def test_the_cli_table_with_recovery_alone(demo_db_path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = run_cli(capsys, "--db", str(demo_db_path), "scorecard", "--recovery",
                  "--to", DEMO_TODAY.isoformat())
    assert out.code == 0, out.err
    assert "Time to recovery" in out.out and " wk (" in out.out
