"""De-identification of evidence packets against the identifier shapes the first test missed:
"Last, First" names, surnames alone, day-month-year dates in words ("23 November 2025"),
year-first dates with slashes ("1960/05/17") and episode ids.

Each is planted in the hand-built clinic (patient names, birth dates, dates of service, episode
and record ids, and the free text around them: comments, findings, reasons) and every packet
format is searched for it.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlite_utils import Database

from outcomes.documents.packets import build_packet, make_packet, render
from outcomes.measures.nps import add_nps
from outcomes.models import NpsResponse
from outcomes.network.outbound import record_outbound
from outcomes.store.database import transaction
from tests.clinic_fixture import END, START, TODAY, add_episode, score

SURNAME, GIVEN = "Zabriskie", "Philomena"
LONE_SURNAME = "Vantongeren"  # a patient recorded by surname only
EPISODE_ID, RECORD_NUMBER = "EPQX-7731", "MRN-ZX-99127"
LONE_EPISODE_ID = "EPQX-4410"
BIRTH = date(1960, 5, 17)
FIRST_VISIT = date(2026, 2, 23)  # a date of service inside the period
COMMENT_DATE = date(2025, 11, 23)


def date_forms(d: date) -> set[str]:
    """A date the ways people and programs write it."""
    return {
        d.isoformat(), f"{d:%Y/%m/%d}", f"{d.year}/{d.month}/{d.day}",
        f"{d:%m/%d/%Y}", f"{d.month}/{d.day}/{d.year}", f"{d:%d/%m/%Y}",
        f"{d.day} {d:%B} {d.year}", f"{d:%d} {d:%B} {d.year}", f"{d:%B} {d.day}, {d.year}",
        f"{d.day} {d:%b} {d.year}", f"{d:%b} {d.day}, {d.year}", f"{d:%Y%m%d}",
    }


PLANTED = sorted(
    {f"{SURNAME}, {GIVEN}", f"{GIVEN} {SURNAME}", SURNAME, GIVEN, LONE_SURNAME,
     EPISODE_ID, LONE_EPISODE_ID, RECORD_NUMBER}
    | date_forms(BIRTH) | date_forms(FIRST_VISIT) | date_forms(COMMENT_DATE)
)


def test_the_issue_forms_are_planted() -> None:
    for form in ("Zabriskie, Philomena", "Zabriskie", "23 November 2025", "1960/05/17",
                 EPISODE_ID):
        assert form in PLANTED


@pytest.fixture
def planted(db: Database, clinic: dict[str, int]) -> dict[str, int]:
    """The clinic of tests/clinic_fixture.py with two more patients of partner A, whose
    identifiers appear in every place a record can hold them."""
    a = clinic["a"]
    note = (f"{SURNAME}, {GIVEN} (born {BIRTH:%Y/%m/%d}, episode {EPISODE_ID}) seen "
            f"{COMMENT_DATE.day} {COMMENT_DATE:%B} {COMMENT_DATE.year}; {LONE_SURNAME} too.")
    add_episode(db, EPISODE_ID, a, date(2026, 2, 16), (FIRST_VISIT - date(2026, 2, 16)).days,
                9, True, chief_complaint=note, findings=note, treatment=note, plan=note,
                clinician=f"PT for {SURNAME}", onset_date=date(2026, 1, 1))
    add_episode(db, LONE_EPISODE_ID, a, date(2026, 3, 3), 2, 5, True,
                chief_complaint=f"{LONE_SURNAME} lifting injury")
    with transaction(db):
        # "Last, First" and a surname alone, as clinics' exports write them.
        db.execute("UPDATE patients SET name = ?, birth_date = ?, record_number = ? "
                   "WHERE record_number = ?",
                   [f"{SURNAME}, {GIVEN}", BIRTH.isoformat(), RECORD_NUMBER, f"MRN-{EPISODE_ID}"])
        db.execute("UPDATE patients SET name = ? WHERE record_number = ?",
                   [LONE_SURNAME, f"MRN-{LONE_EPISODE_ID}"])
    for eid in (EPISODE_ID, LONE_EPISODE_ID):
        score(db, eid, "odi", "intake", 60, FIRST_VISIT)
        score(db, eid, "odi", "discharge", 20, date(2026, 4, 20))
        add_nps(db, NpsResponse(episode_id=eid, score=10, date=date(2026, 5, 10), comment=note))
    record_outbound(db, a, {"episode_id": EPISODE_ID, "date": FIRST_VISIT, "reason": note},
                    today=TODAY)
    return clinic


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def searchable(text: str) -> str:
    """Text as a reader sees it: whitespace collapsed (PDF lines wrap anywhere), case folded."""
    return re.sub(r"\s+", " ", text).casefold()


def rendered(db: Database, partner_id: int, min_n: int) -> dict[str, str]:
    packet = build_packet(db, partner_id, START, END, today=TODAY, min_n=min_n)
    page = render(packet, "html").decode()
    markdown = render(packet, "md").decode()
    return {
        "pdf": pdf_text(render(packet, "pdf")),
        "html": page,
        # What the browser shows: tags dropped, entities decoded.
        "html-text": html.unescape(re.sub(r"<[^>]+>", " ", page)),
        "md": markdown,
        # Markdown escapes (\\- \\,) removed, as a viewer shows them.
        "md-text": re.sub(r"\\(.)", r"\1", markdown),
    }


@pytest.mark.parametrize("min_n", [1, 5], ids=["everything-shown", "default-suppression"])
def test_no_planted_identifier_reaches_any_format(db: Database, planted: dict[str, int],
                                                  min_n: int) -> None:
    texts = rendered(db, planted["a"], min_n)
    assert "dr. ada stone" in searchable(texts["pdf"])  # the packet is about this partner
    for fmt, text in texts.items():
        haystack = searchable(text)
        leaked = [form for form in PLANTED if form.casefold() in haystack]
        assert not leaked, (fmt, leaked)


def test_planted_patients_are_counted_so_their_data_was_read(db: Database,
                                                             planted: dict[str, int]) -> None:
    # Without this the test above would pass on a packet that skipped the planted episodes.
    packet = build_packet(db, planted["a"], START, END, today=TODAY, min_n=1)
    assert packet.figures["referrals"] == 10  # 8 of the fixture in the period + 2 planted
    assert re.search(r"(Of the|You referred) 10 patients", " ".join(packet.summary))


def test_the_written_packet_file_is_clean(db: Database, planted: dict[str, int],
                                          tmp_path: Path) -> None:
    out = tmp_path / "packet.pdf"
    make_packet(db, planted["a"], out, START, END, today=TODAY)
    haystack = searchable(pdf_text(out.read_bytes()))
    assert "dr. ada stone" in haystack
    assert not [form for form in PLANTED if form.casefold() in haystack]


def test_the_planted_identifiers_are_in_the_database(db: Database,
                                                    planted: dict[str, int]) -> None:
    patients = {r[0]: r[1:] for r in db.execute(
        "SELECT record_number, name, birth_date FROM patients")}
    assert patients[RECORD_NUMBER] == (f"{SURNAME}, {GIVEN}", BIRTH.isoformat())
    assert patients[f"MRN-{LONE_EPISODE_ID}"][0] == LONE_SURNAME
    assert db.execute("SELECT first_visit_date FROM episodes WHERE id = ?",
                      [EPISODE_ID]).fetchone()[0] == FIRST_VISIT.isoformat()


@pytest.mark.parametrize("leak", [f"{SURNAME}, {GIVEN}", SURNAME, "23 November 2025",
                                  "1960/05/17", EPISODE_ID])
def test_a_leak_put_into_a_packet_is_caught_in_every_format(
        db: Database, planted: dict[str, int], leak: str) -> None:
    # The search must be able to fail: the same identifier placed in the packet's own summary
    # is found after rendering, in the PDF text, the HTML and the Markdown.
    import dataclasses

    packet = build_packet(db, planted["a"], START, END, today=TODAY, min_n=1)
    leaky = dataclasses.replace(packet, summary=[*packet.summary, f"Thanks to {leak} today."])
    texts = {"pdf": pdf_text(render(leaky, "pdf")),
             "html-text": html.unescape(re.sub(r"<[^>]+>", " ",
                                               render(leaky, "html").decode())),
             "md-text": re.sub(r"\\(.)", r"\1", render(leaky, "md").decode())}
    for fmt, text in texts.items():
        assert leak.casefold() in searchable(text), fmt


def test_the_search_finds_each_form_when_it_is_present() -> None:
    # The check must be able to fail: each planted form, dropped into text shaped like a packet
    # (wrapped lines, HTML entities, Markdown escapes), is found.
    for form in PLANTED:
        wrapped = f"Summary of outcomes\n{form.replace(' ', chr(10), 1)} reached the MCID"
        assert form.casefold() in searchable(wrapped)
    assert f"{SURNAME}, {GIVEN}".casefold() in searchable(
        html.unescape(f"<td>{SURNAME},&#32;{GIVEN}</td>"))
    assert EPISODE_ID.casefold() in searchable(re.sub(r"\\(.)", r"\1", "EPQX\\-7731"))
