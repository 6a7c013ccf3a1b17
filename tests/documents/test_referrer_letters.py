"""The four letters of the referrer loop, from a demo episode with its clinical content entered:
every section filled, in PDF (fax), Markdown and plain text, from the clinic's own template."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlite_utils import Database

from outcomes.documents.letters import (
    NOT_RECORDED,
    build_letter,
    make_letter,
    render_letter_markdown,
    render_letter_text,
)
from outcomes.errors import ValidationError
from tests.conftest import DEMO_TODAY

CONTENT = {
    "onset_date": "2026-08-01",
    "chief_complaint": "Low back pain radiating to the left buttock",
    "history": "Two prior episodes (2019, 2023); desk job; no red flags",
    "findings": "Lumbar flexion 50% limited; SLR negative; L4-5 PA hypomobile",
    "diagnosis": "M54.50",
    "treatment": "Manual therapy, motor control exercise, education",
    "plan": "Progress to graded activity and return to full work duties",
    "plan_frequency": "2x/week",
    "plan_duration": "6 weeks",
    "plan_interventions": "Manual therapy; therapeutic exercise; home program",
    "referral_question": "Evaluate and treat; is surgery indicated?",
    "precautions": "Osteopenia: no high-velocity thrust",
    "physician_follow_up": "2026-12-10",
}
GOALS = [
    {"goal": "Sit 60 minutes without pain above 2/10", "target_date": "2026-11-30",
     "status": "met"},
    {"goal": "Lift 15 kg floor to waist", "target_date": "2026-12-15", "status": "open"},
]


def _episode(db: Database, discharged: bool) -> str:
    """A demo episode with intake and later scores, referred by a partner."""
    status = "discharged" if discharged else "in_care"
    row = db.execute(
        "SELECT e.id FROM episodes e WHERE e.partner_id IS NOT NULL AND e.status = ?"
        " AND EXISTS (SELECT 1 FROM responses r WHERE r.episode_id = e.id"
        "   AND r.timepoint = 'intake') AND EXISTS (SELECT 1 FROM responses r"
        "   WHERE r.episode_id = e.id AND r.timepoint != 'intake')"
        " AND e.first_visit_date >= '2026-08-02' ORDER BY e.id LIMIT 1", [status]).fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture
def filled(demo_db: Database) -> dict[str, str]:
    from outcomes.network.clinical import update_clinical
    from outcomes.network.outbound import record_outbound

    demo_db.execute("UPDATE settings SET value = '\"Riverside PT\"' WHERE key = 'clinic_name'")
    episodes = {"open": _episode(demo_db, False), "discharged": _episode(demo_db, True)}
    for eid in episodes.values():
        update_clinical(demo_db, eid, CONTENT, goals=GOALS, today=DEMO_TODAY)
    imaging = demo_db.execute("SELECT id FROM partners ORDER BY id DESC LIMIT 1").fetchone()[0]
    record_outbound(demo_db, imaging, {
        "reason": "Persistent radicular signs after 4 weeks", "episode_id": episodes["open"],
        "question": "Is there nerve root compression at L4-5?", "date": "2026-11-20"},
        today=DEMO_TODAY)
    return episodes


CASES = [("evaluation", "open"), ("progress", "open"), ("discharge", "discharged"),
         ("outbound", "open")]


@pytest.mark.parametrize(("kind", "which"), CASES)
def test_every_section_filled_in_the_pdf(demo_db: Database, filled: dict[str, str],
                                         tmp_path: Path, kind: str, which: str) -> None:
    eid = filled[which]
    out = tmp_path / f"{kind}.pdf"
    letter, comm_id = make_letter(demo_db, eid, kind, out, today=DEMO_TODAY)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    flat = " ".join(text.split())
    assert NOT_RECORDED not in flat
    assert "No goals recorded" not in flat and "No outcome scores recorded" not in flat
    headings = [b.text for b in letter.blocks if b.kind == "heading"]
    assert len(headings) >= 5
    for h in headings:
        assert " ".join(h.split()) in flat, h
    assert "Riverside PT" in flat and letter.title in flat
    expected = {
        "evaluation": ["is surgery indicated?", "2x/week", "6 weeks", "Osteopenia",
                       "Sit 60 minutes", "Signature:", "NPI", "Intake"],
        "progress": ["December 10, 2026", "Lift 15 kg", "in progress", "Latest", "Change"],
        "discharge": ["MCID", "Goals met: 1 of 2", "Discharge summary", "visits"],
        "outbound": ["Is there nerve root compression at L4-5?", "Persistent radicular",
                     "Osteopenia"],
    }[kind]
    for phrase in expected:
        assert phrase in flat, phrase
    row = demo_db.execute("SELECT document, status, sent_date, length(sha256) FROM"
                          " communications WHERE id = ?", [comm_id]).fetchone()
    assert row[1:] == ("made", None, 64)
    assert out.stat().st_mode & 0o777 == 0o600


def test_sha256_is_the_file_and_sent_is_a_separate_step(demo_db: Database,
                                                        filled: dict[str, str],
                                                        tmp_path: Path) -> None:
    import hashlib

    from outcomes.network.communications import mark_sent

    # This episode's plan has not gone out yet (the demo sends most plans within days).
    demo_db.execute("UPDATE episodes SET poc_sent_date = NULL WHERE id = ?", [filled["open"]])
    out = tmp_path / "eval.md"
    _, cid = make_letter(demo_db, filled["open"], "evaluation", out, today=DEMO_TODAY)
    digest = demo_db.execute("SELECT sha256 FROM communications WHERE id = ?",
                             [cid]).fetchone()[0]
    assert digest == hashlib.sha256(out.read_bytes()).hexdigest()
    mark_sent(demo_db, cid, channel="fax", when=DEMO_TODAY.isoformat(), today=DEMO_TODAY)
    # Sending the evaluation summary is the plan of care's transmission to the physician.
    assert demo_db.execute("SELECT poc_sent_date FROM episodes WHERE id = ?",
                           [filled["open"]]).fetchone()[0] == DEMO_TODAY.isoformat()


def test_typed_text_is_never_markup(demo_db: Database, filled: dict[str, str]) -> None:
    from outcomes.network.clinical import update_clinical

    eid = filled["open"]
    update_clinical(demo_db, eid, {"findings": "**bold** [x](http://e.vil) $history \x1b[31m"},
                    today=DEMO_TODAY)
    letter = build_letter(demo_db, eid, "progress", today=DEMO_TODAY)
    md = render_letter_markdown(letter)
    assert "\\*\\*bold\\*\\*" in md and "\\[x\\]" in md
    # A value is inserted once: "$history" typed by a user stays as typed.
    assert "$history" in render_letter_text(letter)
    assert "\x1b" not in render_letter_text(letter)


def test_a_clinic_template_is_used_and_checked(demo_db: Database, filled: dict[str, str],
                                               tmp_path: Path) -> None:
    config = tmp_path / "config"
    (config / "letters").mkdir(parents=True)
    (config / "letters" / "progress.txt").write_text(
        "title: Update from Riverside\n; a comment\n## How $patient is doing\nCosts $$0.\n"
        "[scores]\n", encoding="utf-8")
    letter = build_letter(demo_db, filled["open"], "progress", today=DEMO_TODAY, config=config)
    assert letter.title == "Update from Riverside"
    assert letter.text_lines()[1] == "Costs $0."
    assert letter.text_lines()[0].startswith("How ") and "$" not in letter.text_lines()[0]
    (config / "letters" / "progress.txt").write_text("## Plan\nSee $plann\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"progress\.txt, line 2, column 5: unknown "
                                              r"field \$plann"):
        build_letter(demo_db, filled["open"], "progress", today=DEMO_TODAY, config=config)
    (config / "letters" / "progress.txt").write_text("[signature]\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="line 1, column 1: unknown block"):
        build_letter(demo_db, filled["open"], "progress", today=DEMO_TODAY, config=config)


def test_refusals(demo_db: Database, filled: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="has not been discharged"):
        build_letter(demo_db, filled["open"], "discharge", today=DEMO_TODAY)
    with pytest.raises(ValidationError, match="no outbound referral"):
        build_letter(demo_db, filled["discharged"], "outbound", today=DEMO_TODAY)
    with pytest.raises(ValidationError, match=r"\.pdf, \.md or \.txt"):
        make_letter(demo_db, filled["open"], "progress", tmp_path / "x.doc", today=DEMO_TODAY)


@pytest.mark.parametrize(("kind", "which"), CASES)
def test_png_at_fax_resolution(demo_db: Database, filled: dict[str, str], tmp_path: Path,
                               kind: str, which: str) -> None:
    """pdftoppm -r 200 -gray: the page renders (the PNGs were looked at by eye; see the
    report). OUTCOMES_KEEP_PNG=folder keeps them."""
    import os
    import shutil
    import subprocess

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed")
    out = tmp_path / f"{kind}.pdf"
    make_letter(demo_db, filled[which], kind, out, today=DEMO_TODAY)
    keep = os.environ.get("OUTCOMES_KEEP_PNG")
    prefix = Path(keep) / kind if keep else tmp_path / kind
    subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", str(out), str(prefix)],
                   check=True)
    pages = sorted(prefix.parent.glob(f"{kind}-*.png"))
    assert pages
    from PIL import Image

    with Image.open(pages[0]) as image:
        assert image.size[0] >= 1650  # a letter-size page at 200 dpi is 1700 pixels wide
        gray = image.convert("RGB").getcolors(maxcolors=1 << 16) or []
        assert all(r == g == b for _n, (r, g, b) in gray)   # grey levels only


# ---------------------------------------------------------------- templates (no database)


@given(st.text(max_size=60))
def test_a_value_is_inserted_verbatim(value: str) -> None:
    """Whatever a user typed ($fields, $$, [scores], markup) comes out exactly as typed."""
    from outcomes.documents import templates

    values = dict.fromkeys(templates.FIELDS, "x")
    values["findings"] = value
    assert templates.fill("A $findings B $$", values) == f"A {value} B $"


@pytest.mark.parametrize("kind", ["evaluation", "progress", "discharge", "outbound"])
def test_each_built_in_template_parses_with_a_title_and_sections(kind: str) -> None:
    from outcomes.documents import templates

    parsed = templates.parse(templates.DEFAULTS[kind], kind, "built-in")
    assert parsed.title and sum(line.kind == "heading" for line in parsed.lines) >= 5
    assert not any(line.text.endswith("\\") for line in parsed.lines)
