"""What is owed to the referrer, and when: each rule at the day before, on and after its edge."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.network.owed import EpisodeFacts, Owed, Rules, owed_for
from tests.network.helpers import TODAY, add_partner, add_referral

FIRST = date(2026, 5, 1)


def facts(**kw: object) -> EpisodeFacts:
    base: dict[str, object] = {"episode_id": "E1", "status": "in_care", "first_visit": FIRST,
                               "discharge": None}
    base.update(kw)
    return EpisodeFacts(**base)  # type: ignore[arg-type]


def owed(f: EpisodeFacts, day: int, rules: Rules = Rules()) -> dict[str, Owed]:
    """What is owed ``day`` days after the first visit."""
    return {o.document: o for o in owed_for(f, FIRST + timedelta(days=day), rules)}


# ---------------------------------------------------------------- plan of care (issue 12)


@pytest.mark.parametrize(("day", "stage"), [
    (22, None),      # the day before the week's notice: silent
    (23, "due"),     # a week before the deadline
    (29, "due"),     # the last day before it
    (30, "late"),    # the deadline day: not certified in time
    (31, "late"),
    (90, "late"),    # the last day chased
    (91, None),      # older than the window: not chased
])
def test_plan_of_care_alert_by_day(day: int, stage: str | None) -> None:
    got = owed(facts(), day).get("plan_of_care")
    assert (got.stage if got else None) == stage
    if got:
        assert got.days == day and got.since == FIRST + timedelta(days=30)


@pytest.mark.parametrize(("certified_day", "day", "fires"), [
    (25, 24, True),    # certified later than the day looked at: still owed that day
    (25, 25, False),   # certified that day: stops
    (25, 30, False),
    (5, 30, False),    # certified early: never fires
])
def test_certification_stops_the_plan_of_care_alert(certified_day: int, day: int,
                                                    fires: bool) -> None:
    f = facts(poc_certified=FIRST + timedelta(days=certified_day))
    assert ("plan_of_care" in owed(f, day)) is fires


def test_plan_of_care_alerts_can_be_turned_off() -> None:
    off = Rules(plan_of_care=False)
    assert set(owed(facts(), 30, off)) == {"evaluation_summary", "progress_note"}


def test_plan_of_care_sent_but_not_certified_still_fires() -> None:
    # Sending the plan is not certifying it: the order or the signed plan must be on file.
    assert owed(facts(poc_sent=FIRST + timedelta(days=3)), 30)["plan_of_care"].stage == "late"


# ---------------------------------------------------------------- evaluation summary


def test_evaluation_summary_owed_from_the_first_visit_until_sent() -> None:
    assert "evaluation_summary" in owed(facts(), 0)
    assert "evaluation_summary" not in owed(facts(first_visit=FIRST + timedelta(days=1)), 0)
    sent = facts(sent={"evaluation_summary": [FIRST + timedelta(days=2)]})
    assert "evaluation_summary" in owed(sent, 1)          # not yet sent on day 1
    assert "evaluation_summary" not in owed(sent, 2)
    early = facts(sent={"evaluation_summary": [FIRST - timedelta(days=1)]})
    assert "evaluation_summary" in owed(early, 2)         # sent before the visit: another one


@pytest.mark.parametrize(("day", "documents"), [
    (22, {"evaluation_summary"}),                 # its own alert before the plan's notice
    (23, {"plan_of_care"}),                       # then the plan-of-care alert carries it
])
def test_the_plan_of_care_alert_carries_an_unsent_summary(day: int, documents: set[str]
                                                          ) -> None:
    got = owed(facts(), day)
    assert set(got) == documents
    if "plan_of_care" in got:
        assert got["plan_of_care"].reasons == ("evaluation_summary_not_sent",)
        sent = facts(sent={"evaluation_summary": [FIRST]})
        assert owed(sent, day)["plan_of_care"].reasons == ()


def test_closed_referrals_owe_nothing() -> None:
    for status in ("not_scheduled", "cancelled"):
        assert owed(facts(status=status), 40) == {}
    assert owed_for(facts(first_visit=None), FIRST) == []


# ---------------------------------------------------------------- progress note


@pytest.mark.parametrize(("day", "due"), [(29, False), (30, True), (31, True)])
def test_progress_note_every_30_days(day: int, due: bool) -> None:
    assert ("progress_note" in owed(facts(), day)) is due


@pytest.mark.parametrize(("visits", "notes", "due"), [
    (9, 0, False), (10, 0, True),     # the first note at visit 10
    (19, 1, False), (20, 1, True),    # the second at visit 20
    (None, 0, False),
])
def test_progress_note_every_10_visits(visits: int | None, notes: int, due: bool) -> None:
    sent = {"progress_note": [FIRST + timedelta(days=5)] * notes}
    got = owed(facts(visits=visits, sent=sent), 10).get("progress_note")
    assert (got is not None) is due
    if got:
        assert got.reasons == ("visits",)


def test_progress_note_settings_change_the_cadence() -> None:
    rules = Rules(progress_visits=4, progress_days=14)
    assert owed(facts(visits=4), 3, rules)["progress_note"].reasons == ("visits",)
    assert "progress_note" not in owed(facts(), 13, rules)
    assert "progress_note" in owed(facts(), 14, rules)


def test_a_sent_progress_note_restarts_the_clock() -> None:
    f = facts(sent={"progress_note": [FIRST + timedelta(days=30)]})
    assert "progress_note" not in owed(f, 59)
    assert "progress_note" in owed(f, 60)


@pytest.mark.parametrize(("days_before", "due"), [(8, False), (7, True), (0, True), (-1, False)])
def test_progress_note_before_a_physician_follow_up(days_before: int, due: bool) -> None:
    follow_up = FIRST + timedelta(days=20)
    got = owed(facts(physician_follow_up=follow_up), 20 - days_before).get("progress_note")
    assert (got is not None) is due
    if got:
        assert got.reasons == ("follow_up",) and got.since == follow_up


def test_a_recent_note_covers_the_follow_up() -> None:
    follow_up = FIRST + timedelta(days=25)
    covered = facts(physician_follow_up=follow_up,
                    sent={"progress_note": [follow_up - timedelta(days=14)]})
    assert "progress_note" not in owed(covered, 22)
    stale = facts(physician_follow_up=follow_up,
                  sent={"progress_note": [follow_up - timedelta(days=15)]})
    assert owed(stale, 22)["progress_note"].reasons == ("follow_up",)


def test_no_progress_note_once_discharged() -> None:
    f = facts(status="discharged", discharge=FIRST + timedelta(days=40), visits=30)
    assert "progress_note" not in owed(f, 45)


# ---------------------------------------------------------------- discharge summary


@pytest.mark.parametrize(("after", "due"), [(-1, False), (0, True), (90, True), (91, False)])
def test_discharge_summary_window(after: int, due: bool) -> None:
    discharge = FIRST + timedelta(days=40)
    f = facts(status="discharged", discharge=discharge, poc_certified=FIRST)
    got = owed_for(f, discharge + timedelta(days=after))
    assert any(o.document == "discharge_summary" for o in got) is due


def test_discharge_summary_sent_before_discharge_does_not_count() -> None:
    discharge = FIRST + timedelta(days=40)
    f = facts(status="discharged", discharge=discharge,
              sent={"discharge_summary": [discharge - timedelta(days=1)]})
    assert "discharge_summary" in owed(f, 41)
    f.sent["discharge_summary"].append(discharge)
    assert "discharge_summary" not in owed(f, 41)


# ---------------------------------------------------------------- properties


@given(day=st.integers(min_value=-5, max_value=200), certified=st.one_of(
    st.none(), st.integers(min_value=0, max_value=200)),
    visits=st.one_of(st.none(), st.integers(min_value=0, max_value=60)))
def test_owed_properties(day: int, certified: int | None, visits: int | None) -> None:
    f = facts(visits=visits,
              poc_certified=None if certified is None else FIRST + timedelta(days=certified))
    got = owed_for(f, FIRST + timedelta(days=day))
    documents = [o.document for o in got]
    assert len(documents) == len(set(documents))          # one alert per document
    if day < 0:
        assert got == []                                 # nothing before the first visit
    for o in got:
        assert o.episode_id == "E1"
        if o.document == "plan_of_care":
            assert 23 <= day <= 90 and (certified is None or certified > day)
            assert o.stage == ("late" if day >= 30 else "due")


# ---------------------------------------------------------------- through the database


def test_plan_of_care_alert_day_23_and_30_then_certified(db: Database) -> None:
    from outcomes.network.alerts import compute_alerts
    from outcomes.network.clinical import certify_plan

    pid = add_partner(db, "Dr. Certify")
    first = TODAY - timedelta(days=30)
    eid = add_referral(db, pid, first - timedelta(days=3), status="in_care", first_visit=first)

    def poc(on: date) -> list[str]:
        return [a.evidence["stage"] for a in compute_alerts(db, on)
                if a.kind == "document_owed" and a.evidence["document"] == "plan_of_care"]

    assert poc(first + timedelta(days=22)) == []
    assert poc(first + timedelta(days=23)) == ["due"]
    assert poc(first + timedelta(days=30)) == ["late"]
    saved = certify_plan(db, eid, how="order on file", when=TODAY, today=TODAY)
    assert "plan of care certified" in saved.message()
    assert poc(TODAY) == []
    assert db.execute("SELECT poc_certified_by, poc_certified_date FROM episodes WHERE id = ?",
                      [eid]).fetchone() == ("order_on_file", TODAY.isoformat())


def test_a_made_letter_is_not_a_sent_one(db: Database) -> None:
    from outcomes.models import Communication
    from outcomes.network.communications import mark_sent, store_communication
    from outcomes.network.owed import owed_documents

    pid = add_partner(db, "Dr. Sent")
    eid = add_referral(db, pid, TODAY - timedelta(days=5), status="evaluated",
                       first_visit=TODAY - timedelta(days=2))
    comm = Communication(partner_id=pid, episode_id=eid, date=TODAY - timedelta(days=1),
                         kind="letter", channel="fax")
    cid = store_communication(db, comm, document="evaluation_summary", status="made",
                              sha256="0" * 64)
    assert [o.document for _, o in owed_documents(db, TODAY)] == ["evaluation_summary"]
    with pytest.raises(Exception, match="made on"):
        mark_sent(db, cid, channel="fax", when=(TODAY - timedelta(days=2)).isoformat(),
                  today=TODAY)
    sent = mark_sent(db, cid, channel="portal", when=TODAY.isoformat(), today=TODAY)
    assert sent.channel == "portal"
    assert owed_documents(db, TODAY) == []


@pytest.mark.parametrize(("days_ago", "fires"), [
    (30, False),    # the clinic waits 30 days (outbound_findings_days)
    (31, True),
    (120, True),    # chased for 90 days after that
    (121, False),
])
def test_findings_overdue_edges(db: Database, days_ago: int, fires: bool) -> None:
    from outcomes.network.alerts import compute_alerts
    from outcomes.network.outbound import record_outbound, update_outbound

    pid = add_partner(db, "Imaging")
    record_outbound(db, pid, {"reason": "MRI", "date": TODAY - timedelta(days=days_ago)},
                    today=TODAY)
    found = [a for a in compute_alerts(db, TODAY) if a.kind == "findings_overdue"]
    assert bool(found) is fires
    if fires:
        assert found[0].evidence["days"] == days_ago
        update_outbound(db, 1, status="findings received", findings="Normal", today=TODAY)
        assert not [a for a in compute_alerts(db, TODAY) if a.kind == "findings_overdue"]


# ---------------------------------------------------------------- clinical text as typed


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=300).filter(lambda t: t.strip()))
def test_clinical_text_is_stored_as_typed(db: Database, text: str) -> None:
    """Markup, template syntax and control characters come back exactly (trimmed)."""
    from outcomes.network.clinical import get_clinical, update_clinical

    if not db.execute("SELECT 1 FROM episodes WHERE id = 'TX'").fetchone():
        add_referral(db, add_partner(db, "Dr. Text"), TODAY, episode_id="TX")
    update_clinical(db, "TX", {"findings": text, "precautions": "$history [b]x[/b]"},
                    today=TODAY)
    stored = get_clinical(db, "TX")
    assert stored.get("findings") == text.strip()
    assert stored.get("precautions") == "$history [b]x[/b]"
