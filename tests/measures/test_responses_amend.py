"""A stored response is never replaced silently: replace (a slip caught at once) or amend (a
correction on the record, with its reason). Both keep the old values in the audit log; only an
amendment marks the row, and it needs a stored response to amend."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from outcomes.errors import ValidationError
from outcomes.measures.responses import ResponseExists, amendment_reason, save_response
from outcomes.text import is_control
from tests.cli_helpers import run_cli
from tests.network.helpers import add_partner, add_referral

DAY = date(2026, 11, 2)
FIRST = [3, 2, 2, 1, 3, 2, 1, 1, 2, 2]
SECOND = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]


def _episode(db: Database) -> str:
    return add_referral(db, add_partner(db, "Dr. Amend"), date(2026, 10, 20),
                        status="in_care", first_visit=date(2026, 10, 25))


def _stored(db: Database, eid: str) -> tuple[str, str | None, str | None]:
    return db.execute("SELECT answers, amended_at, amendment_reason FROM responses"
                      " WHERE episode_id = ?", [eid]).fetchone()


def test_amend_keeps_the_reason_on_the_row_and_the_old_values_in_the_audit(
        db: Database) -> None:
    eid = _episode(db)
    save_response(db, eid, "odi", "intake", FIRST, DAY)
    with pytest.raises(ResponseExists, match="amend it with the reason"):
        save_response(db, eid, "odi", "intake", SECOND, DAY)
    saved = save_response(db, eid, "odi", "intake", SECOND, DAY,
                          amend="  patient corrected\nitem 4 ")
    assert saved.amended and saved.message().startswith("Amended odi intake")
    answers, amended_at, reason = _stored(db, eid)
    assert json.loads(answers) == SECOND and amended_at and reason == "patient corrected item 4"
    action, detail = db.execute("SELECT action, detail FROM audit_log"
                                " ORDER BY id DESC LIMIT 1").fetchone()
    detail = json.loads(detail)
    assert action == "amend" and detail["reason"] == "patient corrected item 4"
    assert detail["old"][0]["answers"] == FIRST
    # A later plain replace is a new slip fixed: the row no longer claims an amendment.
    save_response(db, eid, "odi", "intake", FIRST, DAY, replace=True)
    assert _stored(db, eid)[1:] == (None, None)


def test_nothing_to_amend_is_refused(db: Database) -> None:
    eid = _episode(db)
    with pytest.raises(ValidationError, match="no odi intake response to amend"):
        save_response(db, eid, "odi", "intake", FIRST, DAY, amend="typo")
    assert db.execute("SELECT count(*) FROM responses").fetchone()[0] == 0


@given(st.text(max_size=40))
@settings(max_examples=60, deadline=None)
def test_a_reason_is_one_line_of_printable_text_or_refused(text: str) -> None:
    try:
        reason = amendment_reason(text)
    except ValidationError:
        # Refused only when blank or holding a character no terminal may show as itself
        # (checked one character at a time, by the rule the whole app uses).
        assert not text.split() or any(is_control(c) for c in " ".join(text.split()))
        return
    assert reason == " ".join(text.split()) and reason


def test_the_cli_amends_with_a_reason_and_refuses_without_replace_or_amend(
        db: Database, db_path, capsys: pytest.CaptureFixture[str]) -> None:
    eid = _episode(db)
    answers = [str(a) for a in FIRST]
    assert run_cli(capsys, "--db", str(db_path), "responses", "add", eid, "odi", "intake",
                   *answers, "--date", DAY.isoformat()).code == 0
    refused = run_cli(capsys, "--db", str(db_path), "responses", "add", eid, "odi", "intake",
                      *[str(a) for a in SECOND], "--date", DAY.isoformat())
    assert refused.code != 0 and "--amend REASON" in refused.err
    done = run_cli(capsys, "--db", str(db_path), "responses", "add", eid, "odi", "intake",
                   *[str(a) for a in SECOND], "--date", DAY.isoformat(),
                   "--amend", "patient corrected item 4")
    assert done.code == 0 and json.loads(done.out)["amended"] is True
    assert _stored(db, eid)[2] == "patient corrected item 4"
