"""Stored text never drives the terminal from the command line (issue 16).

Escape sequences (an OSC 0 window title, an OSC 8 hyperlink, ESC[2J, a right-to-left override,
the C1 CSI U+009B) are planted in every stored text field a CLI table or message prints: the
partner's name and notes (through SQL: names refuse them at input), a touchpoint's summary and
who, a communication's note, an outbound referral's reason, an NPS comment, the episode's
diagnosis and clinician, an audit row's detail and actor. Names reach the alert messages. Every
listing command must print no control character (``outcomes.text.is_control``; newline ends
lines), and its ``--json`` must still parse to the planted text as stored.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from outcomes.store import audit
from outcomes.store.database import open_db, transaction
from outcomes.text import is_control
from tests.cli_helpers import run_cli
from tests.conftest import DEMO_TODAY

PAYLOAD = ("A\x1b]0;pwned\x07B\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\C"
           "\x1b[2JD\u202eE\u009b31mF")
PARTNER = "Dr. Margaret Hale"  # the demo's at-risk partner: in the alerts, with every record


@pytest.fixture
def planted(demo_db_path: Path) -> dict[str, Any]:
    with sqlite3.connect(demo_db_path) as conn:
        pid = conn.execute("SELECT id FROM partners WHERE name = ?", [PARTNER]).fetchone()[0]
        conn.execute("UPDATE partners SET name = ?, notes = ? WHERE id = ?",
                     [PARTNER + PAYLOAD, "notes " + PAYLOAD, pid])
        conn.execute("UPDATE touchpoints SET summary = ?, who = ? WHERE partner_id = ?",
                     ["summary " + PAYLOAD, "who " + PAYLOAD, pid])
        conn.execute("UPDATE episodes SET diagnosis = ?, clinician = ? WHERE partner_id = ?",
                     ["M54.5 " + PAYLOAD, "PT " + PAYLOAD, pid])
        episode = conn.execute("SELECT id FROM episodes WHERE partner_id = ? ORDER BY"
                               " referral_date DESC LIMIT 1", [pid]).fetchone()[0]
        conn.execute("INSERT INTO communications (partner_id, episode_id, date, kind, channel,"
                     " note, created_at) VALUES (?, ?, ?, 'progress_update', 'fax', ?, ?)",
                     [pid, episode, DEMO_TODAY.isoformat(), "note " + PAYLOAD,
                      DEMO_TODAY.isoformat()])
        conn.execute("INSERT INTO outbound_referrals (episode_id, partner_id, date, reason,"
                     " created_at) VALUES (?, ?, ?, ?, ?)",
                     [episode, pid, DEMO_TODAY.isoformat(), "reason " + PAYLOAD,
                      DEMO_TODAY.isoformat()])
        conn.execute("UPDATE nps_responses SET comment = ? WHERE episode_id IN"
                     " (SELECT id FROM episodes WHERE partner_id = ?)",
                     ["comment " + PAYLOAD, pid])
    db = open_db(demo_db_path)
    try:
        audit.log(db, "test", "partners", note="detail " + PAYLOAD)
        with transaction(db):
            audit.append(db, [("2026-11-22T09:00:00+00:00", "test", "partners",
                               json.dumps({"n": 1}), "actor" + PAYLOAD)])
    finally:
        db.close()
    return {"db": str(demo_db_path), "partner_id": pid}


def cli(capsys: pytest.CaptureFixture[str], planted: dict[str, Any], *args: str) -> Any:
    result = run_cli(capsys, "--db", planted["db"], *args)
    assert result.code == 0, (args, result.err)
    return result


COMMANDS = [
    ("partners", "list"),
    ("partners", "show", "{pid}", "--today", "2026-11-22"),
    ("referrals", "list", "--partner", "{pid}"),
    ("touchpoints", "list", "--partner", "{pid}"),
    ("communications", "list", "--partner", "{pid}"),
    ("alerts", "--today", "2026-11-22"),
    ("scorecard", "--from", "2025-11-23", "--to", "2026-11-22"),
    ("nps-stats", "--from", "2025-11-23", "--to", "2026-11-22", "--by", "partner"),
    ("audit", "list", "--limit", "5"),
]
# The planted text each command must carry in its --json (what it prints about).
EXPECTED_IN_JSON = {
    "partners list": [PARTNER + PAYLOAD],
    "partners show": [PARTNER + PAYLOAD, "notes " + PAYLOAD],  # its JSON: partner, stats
    "referrals list": ["M54.5 " + PAYLOAD],
    "touchpoints list": ["summary " + PAYLOAD],
    "communications list": ["note " + PAYLOAD],
    "alerts": [PAYLOAD],
    "scorecard": [PARTNER + PAYLOAD],
    "nps-stats": [PARTNER + PAYLOAD],
    "audit list": ["actor" + PAYLOAD],
}


def args_of(command: tuple[str, ...], planted: dict[str, Any]) -> list[str]:
    return [a.format(pid=planted["partner_id"]) for a in command]


def controls(text: str) -> list[str]:
    return sorted({repr(c) for c in text if c != "\n" and is_control(c)})


def strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in strings(k) + strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in strings(v)]
    return []


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_no_control_character_reaches_the_terminal(capsys: pytest.CaptureFixture[str],
                                                   planted: dict[str, Any],
                                                   command: tuple[str, ...]) -> None:
    result = cli(capsys, planted, *args_of(command, planted))
    assert controls(result.out) == [] and controls(result.err) == [], command
    # The planted text is shown, made visible, not dropped.
    assert "\\x1b]0;pwned" in result.out or "\\x1b" in result.out, (command, result.out[:500])


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_json_output_parses_to_the_planted_text(capsys: pytest.CaptureFixture[str],
                                                planted: dict[str, Any],
                                                command: tuple[str, ...]) -> None:
    result = cli(capsys, planted, *args_of(command, planted), "--json")
    assert controls(result.out) == [] and controls(result.err) == [], command
    found = strings(json.loads(result.out))
    name = " ".join(command[:2]) if command[0] in ("partners", "referrals", "touchpoints",
                                                  "communications", "audit") else command[0]
    for text in EXPECTED_IN_JSON[name]:
        assert any(text in s for s in found), (command, text)


def test_an_nps_comment_is_stored_as_typed_and_a_name_is_refused(
        capsys: pytest.CaptureFixture[str], planted: dict[str, Any]) -> None:
    episode = sqlite3.connect(planted["db"]).execute(
        "SELECT id FROM episodes ORDER BY id LIMIT 1").fetchone()[0]
    result = run_cli(capsys, "--db", planted["db"], "nps", "add", episode, "9",
                     "--date", "2026-11-20", "--comment", "typed " + PAYLOAD)
    assert controls(result.out) == [] and controls(result.err) == []
    assert result.code == 0, result.err
    if result.code == 0:
        stored = sqlite3.connect(planted["db"]).execute(
            "SELECT comment FROM nps_responses WHERE comment LIKE 'typed %'").fetchone()
        assert stored == ("typed " + PAYLOAD,)
    refused = run_cli(capsys, "--db", planted["db"], "partners", "add", "Dr. X" + PAYLOAD,
                      "--kind", "primary care")
    assert refused.code == 1 and controls(refused.err) == [] and controls(refused.out) == []
