"""Evidence packets: numbers, de-identification (checked on every demo partner), suppression,
the same content in PDF, HTML and Markdown, plain-text rendering, and the communication log."""

from __future__ import annotations

import io
import itertools
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlite_utils import Database

from outcomes.documents.packets import build_packet, make_all, make_packet, packet_partners, render
from outcomes.errors import ValidationError
from outcomes.models import Partner
from outcomes.network.partners import save_partner
from outcomes.store.database import transaction
from tests.clinic_fixture import END, START, TODAY

DEMO_TODAY = date(2026, 11, 22)
DEMO_START = date(2025, 11, 23)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def flat(text: str) -> str:
    """Whitespace collapsed (PDF lines wrap anywhere)."""
    return re.sub(r"\s+", " ", text)


def identifiers(db: Database) -> list[str]:
    """Every patient name, record number, birth date and date of service in the database, in
    ISO and US forms."""
    found: set[str] = set()
    for name, record, birth in db.execute("SELECT name, record_number, birth_date FROM patients"):
        found.update(x for x in (name, record) if x)
        if birth:
            found.add(birth)
    dates: set[str] = set()
    for row in db.execute("SELECT first_visit_date, discharge_date, scheduled_date, onset_date"
                          " FROM episodes"):
        dates.update(d for d in row if d)
    dates.update(r[0] for r in db.execute("SELECT date FROM responses"))
    dates.update(r[0] for r in db.execute("SELECT birth_date FROM patients WHERE birth_date"
                                          " IS NOT NULL"))
    for iso in dates:
        d = date.fromisoformat(iso)
        found.update({iso, f"{d.month:02d}/{d.day:02d}/{d.year}", f"{d.month}/{d.day}/{d.year}",
                      f"{d:%B} {d.day}, {d.year}"})
    return sorted(found)


_DATEISH = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}"
                      r"|[A-Z]{2,4}\d{4,}|MRN-?\w+")


def candidates(text: str) -> set[str]:
    """Every substring of ``text`` shaped like an identifier: dates in ISO and US forms, record
    numbers, and every pair of adjacent words (patient names are "First Last")."""
    words = re.findall(r"[^\W\d_]+", text)
    found = set(_DATEISH.findall(text))
    found.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    return found


def test_candidates_find_planted_identifiers() -> None:
    text = "x Alice Quartz, MRN790864 on 2026-01-10 or 1/10/2026 or January 10, 2026."
    assert {"Alice Quartz", "MRN790864", "2026-01-10", "1/10/2026",
            "January 10, 2026"} <= candidates(text)


def test_hand_built_packet_numbers(db: Database, clinic: dict[str, int]) -> None:
    packet = build_packet(db, clinic["a"], START, END, today=TODAY, min_n=1)
    summary = " ".join(packet.summary)
    assert ("Of the 8 patients you referred from January 2026 to June 2026, 7 were seen and "
            "7 have completed care.") in summary
    # ODI: 2 of 3 (67%, Wilson 21-94%). The clinic's 3 of 4 (75%) is not shown: minus the
    # partner's 2 of 3 it gives S1's result, 100% of 1 patient (complementary suppression).
    assert ("67% of your 3 patients with intake and discharge scores on the Oswestry Disability "
            "Index reached a clinically important improvement (95% CI 21-94%).") in summary
    assert "75%" not in summary
    assert "Median time from referral to the first visit: 5 days (clinic: 4.5 days)." in summary
    assert "+0 (±78, 5 answers)" in summary
    assert packet.figures["referrals"] == 8 and packet.figures["nps"] == 0.0
    assert any("your patients: 1)" in m for m in packet.methods)  # A4 carried forward
    assert any("Ostelo" in m and "30% of the intake score" in m for m in packet.methods)


def test_pdf_contains_partner_and_summary_numbers(db: Database, clinic: dict[str, int]) -> None:
    packet = build_packet(db, clinic["a"], START, END, today=TODAY, min_n=1)
    text = flat(pdf_text(render(packet, "pdf")))
    assert "Dr. Ada Stone" in text and "Test Clinic" in text and "fax (555) 010-0000" in text
    assert "Of the 8 patients you referred" in text
    assert "67% of your 3 patients" in text and "95% CI 21-94%" in text
    assert "January 2026 to June 2026" in text


def test_suppressed_packet_shows_no_partner_numbers(db: Database,
                                                    clinic: dict[str, int]) -> None:
    # Partner A has 8 referrals; at min_n 10 every figure about its patients is suppressed.
    packet = build_packet(db, clinic["a"], START, END, today=TODAY, min_n=10)
    assert packet.summary[0].startswith("You referred fewer than 10 patients from January 2026")
    assert all(v is None for k, v in packet.figures.items()
               if k not in ("outcomes", "clinic", "conditions"))
    assert packet.figures["conditions"]["primary"] is None
    assert packet.figures["conditions"]["groups"] == {}
    assert all(v[k] is None for v in packet.figures["outcomes"].values()
               for k in ("n", "mcid_rate", "mean_improvement"))
    for row in packet.key_figures.rows:
        assert row[1] == "fewer than 10 patients", row
    for row in packet.outcomes.rows:
        assert not re.search(r"\d", " ".join(row[1:4]).replace("fewer than 10", "")), row
    assert not [c for c in packet.charts if c.title.startswith("Your referrals")]
    assert all(v[0] is None for c in packet.charts for v in c.values)
    text = flat(pdf_text(render(packet, "pdf")))
    assert "fewer than 10 patients" in text
    assert "8 patients" not in text and "7 were seen" not in text
    assert "your patients: not shown" in text


def test_small_demo_partner_packet(demo_db: Database) -> None:
    """A demo partner with fewer than 5 referrals: suppression text, none of its numbers."""
    row = demo_db.execute(
        "SELECT partner_id, count(*) FROM episodes WHERE referral_date BETWEEN ? AND ?"
        " AND partner_id IS NOT NULL GROUP BY 1 HAVING count(*) < 5 ORDER BY 2 LIMIT 1",
        [DEMO_START.isoformat(), DEMO_TODAY.isoformat()]).fetchone()
    assert row is not None
    packet = build_packet(demo_db, row[0], DEMO_START, DEMO_TODAY, today=DEMO_TODAY)
    md = render(packet, "md").decode()
    mine = md.split("### Summary")[1].split("\n- ")[1]
    assert "fewer than 5 patients" in mine
    assert not re.search(r"\d", mine.replace("fewer than 5", "").replace("2025", "")
                         .replace("2026", ""))
    assert all(r[1] in ("fewer than 5 patients", "none") for r in packet.key_figures.rows)


def test_every_demo_partner_pdf_is_deidentified(demo_db: Database) -> None:
    ids = identifiers(demo_db)
    assert len(ids) > 1000
    id_set = set(ids)
    partners = demo_db.execute("SELECT id, name FROM partners ORDER BY id").fetchall()
    for pid, name in partners:
        packet = build_packet(demo_db, pid, DEMO_START, DEMO_TODAY, today=DEMO_TODAY)
        data = render(packet, "pdf")
        pages = len(PdfReader(io.BytesIO(data)).pages)
        # One or two pages; a third, for the methods note alone, when the time-to-recovery
        # chart or observed minus expected fill page 2.
        evidence = packet.recovery_chart is not None or bool(packet.adjusted)
        assert pages <= (3 if evidence else 2), (name, pages)
        texts = {"pdf": flat(pdf_text(data)),
                 "html": render(packet, "html").decode(), "md": render(packet, "md").decode()}
        assert name in texts["pdf"], name
        for fmt, text in texts.items():
            leaked = candidates(text) & id_set
            assert not leaked, (name, fmt, leaked[:5])
            assert "[bold]" not in text  # demo comments are never included


def test_formats_carry_the_same_numbers(demo_db: Database) -> None:
    pid = demo_db.execute("SELECT id FROM partners WHERE name = 'Dr. Margaret Hale'").fetchone()[0]
    packet = build_packet(demo_db, pid, DEMO_START, DEMO_TODAY, today=DEMO_TODAY)
    pdf = flat(pdf_text(render(packet, "pdf")))
    html = flat(render(packet, "html").decode())
    md = flat(render(packet, "md").decode())
    assert "<svg" in html and "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    numbers = re.findall(r"[+-]?\d+(?:\.\d+)?%?", " ".join(packet.summary))
    assert len(numbers) > 20
    for sentence in packet.summary:
        for n in re.findall(r"[+-]?\d+(?:\.\d+)?%?", sentence):
            assert n in pdf and n in html and n in md, (n, sentence)
    for row in packet.outcomes.rows:
        for cell in row[1:]:
            assert cell in pdf and cell in html and cell in md


def test_partner_name_is_plain_text_and_unicode(db: Database, clinic: dict[str, int],
                                                tmp_path: Path) -> None:
    with transaction(db):
        db.execute("UPDATE partners SET name = ? WHERE id = ?",
                   ["Dr. **Zoë** [b]Łukasiewicz[/b] <i>_x_</i> 王", clinic["a"]])
    packet = build_packet(db, clinic["a"], START, END, today=TODAY, min_n=1)
    text = flat(pdf_text(render(packet, "pdf")))
    assert "**Zoë** [b]Łukasiewicz[/b] <i>_x_</i>" in text
    html = render(packet, "html").decode()
    assert "[b]Łukasiewicz[/b] &lt;i&gt;_x_&lt;/i&gt;" in html and "<i>_x_" not in html
    md = render(packet, "md").decode()
    assert r"\*\*Zoë\*\* \[b\]Łukasiewicz\[/b\] \<i\>\_x\_\</i\>" in md


def test_make_packet_writes_private_file_and_logs(db: Database, clinic: dict[str, int],
                                                  tmp_path: Path) -> None:
    out = tmp_path / "stone.pdf"
    made = make_packet(db, clinic["a"], out, START, END, today=TODAY)
    assert out.read_bytes().startswith(b"%PDF")
    assert out.stat().st_mode & 0o777 == 0o600
    comm = db.execute("SELECT partner_id, episode_id, kind, date FROM communications WHERE id = ?",
                      [made.communication_id]).fetchone()
    assert comm == (clinic["a"], None, "packet", TODAY.isoformat())
    with pytest.raises(ValidationError):
        make_packet(db, clinic["a"], tmp_path / "x.docx", START, END, today=TODAY)


def test_make_all_only_active_partners_with_referrals(db: Database, clinic: dict[str, int],
                                                      tmp_path: Path) -> None:
    with transaction(db):
        save_partner(db, Partner(name="Dr. Prospect", kind="other", stage="prospect"))
    assert [p[0] for p in packet_partners(db, START, END)] == [clinic["a"]]  # B has none
    made = make_all(db, tmp_path / "out", START, END, today=TODAY, fmt="md")
    assert [m.path.name for m in made] == [f"packet-{clinic['a']}-dr-ada-stone.md"]
    assert "Dr. Ada Stone" in made[0].path.read_text()


def test_methods_cite_each_mcid_source_briefly() -> None:
    from outcomes.documents.packets.content import short_citation
    from outcomes.measures import catalog

    assert short_citation(
        "Childs JD, Piva SR, Fritz JM. Responsiveness of the NPRS. Spine. 2005;30(11):1331-4. "
        "Also: Farrar JT, Young JP Jr. Clinical importance. Pain. 2001;94(2):149-158."
    ) == "Childs et al., Spine 2005; Farrar et al., Pain 2001"
    assert short_citation("Vernon H. The NDI. J Manipulative Physiol Ther. 2008;31(7):491-502.") \
        == "Vernon, J Manipulative Physiol Ther 2008"
    assert short_citation("Clinic consensus, unpublished") == "Clinic consensus, unpublished"
    for instrument in catalog.instruments().values():  # every shipped source has a short form
        for scale in instrument.scales.values():
            if scale.mcid is not None:
                short = short_citation(scale.mcid.source)
                assert len(short) < 80 and re.search(r"(19|20)\d\d", short), short
