"""The alert queue: grouping by kind, the most urgent kind first, done and snoozed states that
persist and let a changed alert come back, evidence in plain words, the first-run steps."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.errors import ValidationError
from outcomes.network import queue
from outcomes.network.alerts import URGENCY, Alert
from outcomes.network.queue import (
    DONE,
    SNOOZED,
    AlertState,
    alert_facts,
    alert_key,
    build_queue,
    evidence_sentences,
)
from tests.network.helpers import TODAY, add_partner, add_touch


def make(kind: str, partner_id: int | None = 1, *, sub: str | None = None,
         episode_id: str | None = None, **evidence: object) -> Alert:
    return Alert(kind=kind, partner_id=partner_id, partner=f"Dr. {partner_id}", npi=None,
                 message=f"{kind} message", suggested_action="Do it.", evidence=dict(evidence),
                 episode_id=episode_id, urgency=URGENCY[(kind, sub)])


def touch(pid: int, last: str = "2026-01-01", days_since: int = 100) -> Alert:
    return make("touch_overdue", pid, stage="active", cadence_days=30, last_touch=last,
                days_since=days_since, days_overdue=days_since - 30)


def owed(eid: str, pid: int = 1, milestone: str = "discharge", days: int = 10) -> Alert:
    document = {"discharge": "discharge_summary", "progress": "progress_note"}[milestone]
    return make("document_owed", pid, sub=document, episode_id=eid, document=document,
                stage="owed", since="2026-06-01", days=days, reasons=[])


def spend(pid: int, spent: float, sub: str = "near") -> Alert:
    return make("spend_limit", pid, sub=sub, year=2026, spent=spent, limit=535.0,
                warn_at=428.0, share=spent / 535, remaining=max(535 - spent, 0),
                limit_year=2026)


# ------------------------------------------------------------------ grouping and ordering


def test_groups_by_kind_with_counts_most_urgent_kind_first() -> None:
    """The issue's queue: 74 letters owed came before the 7 overdue touches and the spend
    alert; grouped, each kind is one line with its count, ranked by its most urgent alert."""
    alerts = sorted([*(owed(f"E{i}") for i in range(74)),
                     *(touch(p) for p in range(10, 17)), spend(2, 600, "over")],
                    key=lambda a: a.urgency)
    q = build_queue(alerts, {}, TODAY)
    assert q.kinds == ["spend_limit", "document_owed", "touch_overdue"]
    assert [g.label for g in q.groups] == [
        "1 spend warning", "74 letters owed", "7 touches overdue"]
    assert q.total == 82
    assert q.summary().startswith("1 spend warning · 74 letters owed")


def test_a_kind_ranks_by_its_most_urgent_alert_and_keeps_its_own_order_inside() -> None:
    # spend near (9) alone ranks after the progress update (8); one spend over (0) lifts the
    # whole kind to the top, and inside the kind the input order is kept.
    near, over = spend(1, 450), spend(2, 600, "over")
    progress = owed("E1", milestone="progress")
    assert build_queue([progress, near], {}, TODAY).kinds == ["document_owed", "spend_limit"]
    q = build_queue([over, progress, near], {}, TODAY)
    assert q.kinds == ["spend_limit", "document_owed"]
    assert [i.alert for i in q.items("spend_limit")] == [over, near]


def test_filter_by_kind_and_unknown_kinds_read_in_words() -> None:
    q = build_queue([touch(1), owed("E1"), touch(2)], {}, TODAY)
    assert [i.alert.partner_id for i in q.items("touch_overdue")] == [1, 2]
    assert q.items("detractor") == []
    assert queue.count_label("some_new_kind", 2) == "2 some new kinds"
    assert queue.count_label("document_owed", 1) == "1 letter owed"


def test_every_alert_kind_has_a_name_and_an_action() -> None:
    kinds = {kind for kind, _ in URGENCY}
    assert kinds <= set(queue.KIND_NAMES)
    assert kinds <= set(queue.ACTIONS)
    assert all("_" not in queue.kind_name(k, n) for k in kinds for n in (1, 2))


@given(st.lists(st.sampled_from(sorted(URGENCY, key=str)), max_size=40))
def test_grouping_loses_nothing_and_orders_kinds_by_urgency(subs: list) -> None:
    alerts = [make(kind, i, sub=sub, episode_id=f"E{i}", n=i) for i, (kind, sub) in
              enumerate(subs)]
    q = build_queue(alerts, {}, TODAY)
    assert sorted(id(i.alert) for i in q.items()) == sorted(id(a) for a in alerts)
    urgencies = [g.urgency for g in q.groups]
    assert urgencies == sorted(urgencies)
    assert all(g.count > 0 for g in q.groups)
    assert len(set(q.kinds)) == len(q.kinds)


# ------------------------------------------------------------------ keys and facts


def test_the_key_names_kind_partner_episode_and_subject() -> None:
    assert alert_key(touch(7)) == "touch_overdue|7||"
    assert alert_key(owed("E9", 3)) == "document_owed|3|E9|discharge_summary"
    assert alert_key(owed("E9", 3, "progress")) == "document_owed|3|E9|progress_note"
    detractor = make("detractor", None, episode_id="E2", nps_id=41, score=3)
    assert alert_key(detractor) == "detractor||E2|41"


def test_day_counts_are_not_facts_but_a_new_touch_is() -> None:
    assert alert_facts(touch(1, days_since=100)) == alert_facts(touch(1, days_since=101))
    assert alert_facts(touch(1, last="2026-01-01")) != alert_facts(touch(1, last="2026-02-01"))
    # near -> over the limit changes the urgency: a fact.
    assert alert_facts(spend(1, 450)) != alert_facts(replace(spend(1, 450),
                                                             urgency=URGENCY[("spend_limit",
                                                                              "over")]))


# ------------------------------------------------------------------ states (pure)


def test_done_hides_until_the_facts_change() -> None:
    alert = touch(1)
    state = AlertState(alert_key(alert), DONE, alert_facts(alert))
    q = build_queue([alert, touch(2)], {state.key: state}, TODAY + timedelta(days=400))
    assert [i.alert.partner_id for i in q.items()] == [2] and q.done == 1
    later = touch(1, last="2026-03-01", days_since=40)   # touched again, overdue again
    assert [i.alert for i in build_queue([later], {state.key: state}, TODAY).items()] == [later]


def test_an_items_facts_are_its_alerts_fingerprint_and_what_a_state_compares() -> None:
    """The queue hashes an alert's facts only when a state asks (a 15,000-alert queue spent a
    third of a second on them at start-up): the lazy value is the fingerprint all the same."""
    alert, other = touch(1), touch(2, last="2026-02-01")
    q = build_queue([alert, other], {}, TODAY)
    assert [i.facts for i in q.items()] == [alert_facts(alert), alert_facts(other)]
    stale = AlertState(alert_key(other), DONE, alert_facts(touch(2)))  # done before the touch
    assert [i.alert for i in build_queue([other], {stale.key: stale}, TODAY).items()] == [other]


@pytest.mark.parametrize(("day", "hidden"), [
    (6, True),    # the day before the snooze ends
    (7, False),   # the day it ends: back in the queue
    (8, False),
])
def test_snooze_ends_after_seven_days(day: int, hidden: bool) -> None:
    alert = touch(1)
    state = AlertState(alert_key(alert), SNOOZED, alert_facts(alert), TODAY + timedelta(7))
    q = build_queue([alert], {state.key: state}, TODAY + timedelta(days=day))
    assert (q.total == 0) is hidden
    assert q.snoozed == (1 if hidden else 0)


# ------------------------------------------------------------------ states (stored)


def test_done_and_snooze_persist_and_a_changed_alert_comes_back(db: Database) -> None:
    hale = add_partner(db, "Dr. Hale", stage="active")
    add_touch(db, hale, TODAY - timedelta(days=40))
    lee = add_partner(db, "Dr. Lee", stage="active")
    add_touch(db, lee, TODAY - timedelta(days=50))
    q = queue.work_queue(db, TODAY)
    items = {i.alert.partner: i for i in q.items("touch_overdue")}
    assert set(items) == {"Dr. Hale", "Dr. Lee"}
    assert queue.mark_done(db, items["Dr. Hale"]) == "Done: touch overdue for Dr. Hale."
    assert "Snoozed until" in queue.snooze(db, items["Dr. Lee"], TODAY)

    # Another connection (the next day's session) sees the same states.
    q = queue.work_queue(Database(sqlite3.connect(db.conn.execute(
        "PRAGMA database_list").fetchone()[2])), TODAY + timedelta(days=1))
    assert q.total == 0 and (q.done, q.snoozed) == (1, 1)
    # The snooze ends a week later; the done alert stays done as days pass.
    q = queue.work_queue(db, TODAY + timedelta(days=7))
    assert [i.alert.partner for i in q.items()] == ["Dr. Lee"] and q.done == 1
    # Hale is touched, then overdue again: new facts, back in the queue.
    add_touch(db, hale, TODAY + timedelta(days=1))
    q = queue.work_queue(db, TODAY + timedelta(days=40))
    assert {i.alert.partner for i in q.items()} == {"Dr. Hale", "Dr. Lee"}
    audit = [r[0] for r in db.execute(
        "SELECT action FROM audit_log WHERE entity = 'alert_states' ORDER BY id")]
    assert audit == ["done", "snoozed"]


def test_reopen_undoes_a_state(db: Database) -> None:
    pid = add_partner(db, "Dr. Hale", stage="active")
    add_touch(db, pid, TODAY - timedelta(days=40))
    item = queue.work_queue(db, TODAY).items()[0]
    queue.mark_done(db, item)
    assert queue.work_queue(db, TODAY).total == 0
    assert queue.reopen(db, item.key) is True
    assert queue.reopen(db, item.key) is False
    assert queue.work_queue(db, TODAY).total == 1


@pytest.mark.parametrize(("days", "ok"), [(0, False), (1, True), (365, True), (366, False)])
def test_snooze_length_is_checked(db: Database, days: int, ok: bool) -> None:
    pid = add_partner(db, "Dr. Hale", stage="active")
    add_touch(db, pid, TODAY - timedelta(days=40))
    item = queue.work_queue(db, TODAY).items()[0]
    if ok:
        queue.snooze(db, item, TODAY, days)
        until = db.execute("SELECT until FROM alert_states").fetchone()[0]
        assert until == (TODAY + timedelta(days=days)).isoformat()
    else:
        with pytest.raises(ValidationError, match="1 to 365 days"):
            queue.snooze(db, item, TODAY, days)


def test_the_table_refuses_a_snooze_without_an_end(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO alert_states VALUES ('k', 'touch_overdue', 'snoozed', 'f',"
                   " NULL, '2026-01-01')")


# ------------------------------------------------------------------ evidence in words


def test_evidence_reads_as_labelled_sentences_never_key_value() -> None:
    lines = evidence_sentences(touch(1, last="2026-03-07", days_since=100))
    assert lines == ["Stage: active, a touch every 30 days.",
                     "Last touch: 2026-03-07 (100 days ago).", "Overdue by: 70 days."]
    lines = evidence_sentences(owed("E1"))
    assert lines == ["Owed: discharge summary (owed).", "Since: 2026-06-01 (10 days ago)."]


def test_every_kind_of_the_real_alerts_reads_in_words(demo_db: Database) -> None:
    from outcomes.network.alerts import compute_alerts
    from tests.conftest import DEMO_TODAY

    alerts = compute_alerts(demo_db, DEMO_TODAY)
    assert len({a.kind for a in alerts}) >= 5
    for alert in alerts:
        text = " ".join(evidence_sentences(alert))
        assert "=" not in text and "_" not in text.replace(alert.episode_id or "~", ""), text
        assert "None" not in text, text


def test_unknown_evidence_falls_back_to_words() -> None:
    odd = replace(touch(1), kind="brand_new", evidence={"days_waiting": 3, "to_do": None,
                                                       "tags": ["a_b"], "flag": True})
    assert evidence_sentences(odd) == ["Days waiting: 3.", "To do: none.", "Tags: a b.",
                                       "Flag: yes."]


# ------------------------------------------------------------------ first run


def test_first_run_steps_follow_what_the_clinic_has_done(db: Database) -> None:
    start = queue.first_run(db)
    assert start.empty and [done for _, done in start.steps] == [False, False, False]
    assert queue.name_clinic(db, "  Riverside   PT ") == "The clinic is now named Riverside PT."
    pid = add_partner(db, "Dr. Hale")
    after = queue.first_run(db)
    assert not after.empty and [done for _, done in after.steps] == [True, True, False]
    assert after.clinic_name == "Riverside PT"
    assert [step for step, _ in after.steps] == ["clinic_name", "partners", "referral"]
    assert pid


@pytest.mark.parametrize("text", ["", "   ", "x" * 121])
def test_a_clinic_name_must_be_typed_and_short(db: Database, text: str) -> None:
    with pytest.raises(ValidationError):
        queue.name_clinic(db, text)
    assert queue.first_run(db).clinic_named is False


def test_a_clinic_name_of_120_characters_is_taken(db: Database) -> None:
    queue.name_clinic(db, "x" * 120)
    assert queue.first_run(db).clinic_named is True


def test_a_named_clinics_first_run_reads_without_sqlite_utils(db: Database,
                                                              db_path: Path) -> None:
    """The dashboard asks first_run before its KPIs show; a named clinic's answer must not
    wait for sqlite-utils (which brings numpy when installed, ~0.25 s)."""
    queue.name_clinic(db, "Riverside PT")
    code = ("import json, sqlite3, sys; from outcomes.network.queue import first_run; "
            f"f = first_run(sqlite3.connect({str(db_path)!r})); "
            "print(json.dumps([f.clinic_name, 'sqlite_utils' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == ["Riverside PT", False]


def test_an_unnamed_clinic_is_called_by_the_default_name(db: Database) -> None:
    from outcomes.store.settings import DEFAULTS

    assert queue.first_run(db).clinic_name == DEFAULTS["clinic_name"]
