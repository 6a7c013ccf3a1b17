"""Coordination-of-care letters to the referring provider about one patient: a progress update
or a discharge summary.

Unlike evidence packets, a letter identifies the patient (name, birth date, record number): it is
addressed to the patient's own referring physician. Files are written owner-only (0600). Every
letter made is logged as a communication for the episode and its partner (``progress_update`` or
``discharge_summary``), which is what clears the ``update_owed`` alert for that episode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlite_utils import Database

from outcomes.errors import InstrumentError, ValidationError
from outcomes.measures import catalog, scoring
from outcomes.network.episodes import get_episode
from outcomes.store import settings

KINDS = {"progress": "progress_update", "discharge": "discharge_summary"}
FORMATS = {".pdf": "pdf", ".md": "md", ".markdown": "md"}


@dataclass(frozen=True)
class ScoreLine:
    measure: str
    intake: str
    latest: str
    change: str
    mcid: str


@dataclass(frozen=True)
class Letter:
    kind: str  # "progress" | "discharge"
    episode_id: str
    partner_id: int
    clinic_name: str
    clinic_contact: str
    date: date
    to: list[str]
    patient: list[tuple[str, str]]
    sections: list[tuple[str, str]]
    scores: list[ScoreLine] = field(default_factory=list)
    signature: str = ""

    @property
    def title(self) -> str:
        return "Progress update" if self.kind == "progress" else "Discharge summary"


def _fmt_date(value: str | None) -> str:
    return date.fromisoformat(value).strftime("%B %-d, %Y") if value else "not recorded"


def _score_lines(db: Database, episode_id: str, kind: str) -> list[ScoreLine]:
    known = catalog.instruments()
    by_scale: dict[str, list[tuple[str, str, float]]] = {}
    for timepoint, when, scores in db.execute(
        "SELECT timepoint, date, scores FROM responses WHERE episode_id = ?"
        " AND timepoint != 'follow_up' ORDER BY date, id", [episode_id]
    ):
        for scale_id, value in json.loads(scores).items():
            if value is not None:
                by_scale.setdefault(scale_id, []).append((timepoint, when, float(value)))
    lines = []
    for scale_id, scored in sorted(by_scale.items()):
        try:
            instrument, scale = scoring.scale_by_id(scale_id, known)
        except InstrumentError:
            continue
        if instrument.id == "nps":
            continue
        name = instrument.name if len(instrument.scales) == 1 else f"{instrument.name}: " \
            f"{scale.name}"
        intake = next((s for s in scored if s[0] == "intake"), None)
        later = [s for s in scored if s[0] != "intake"]
        if kind == "discharge" and any(s[0] == "discharge" for s in later):
            later = [s for s in later if s[0] == "discharge"]
        latest = later[-1] if later else None
        intake_text = f"{intake[2]:.1f} ({_fmt_date(intake[1])})" if intake else "none"
        latest_text = (f"{latest[2]:.1f} ({latest[0]}, {_fmt_date(latest[1])})" if latest
                       else "not yet measured")
        change = mcid = ""
        if intake and latest:
            gain = scoring.improvement(scale, intake[2], latest[2])
            change = f"{gain:+.1f} ({'better' if gain > 0 else 'worse' if gain < 0 else 'same'})"
            if scale.mcid is None:
                mcid = "no MCID published"
            else:
                threshold = (f"{scale.mcid.value:g}% of intake" if scale.mcid.unit == "percent"
                             else f"{scale.mcid.value:g} points")
                reached = scoring.mcid_reached(scale, intake[2], latest[2])
                mcid = f"{'reached' if reached else 'not reached'} (MCID {threshold})"
        lines.append(ScoreLine(name, intake_text, latest_text, change, mcid))
    return lines


def build_letter(db: Database, episode_id: str, kind: str, *, today: date) -> Letter:
    if kind not in KINDS:
        raise ValidationError(f"--kind must be progress or discharge; got {kind!r}.")
    episode = get_episode(db, episode_id)
    if episode["partner_id"] is None:
        raise ValidationError(
            f"Episode {episode_id} has no referring partner, so there is no one to address "
            "the letter to; set the episode's referrer first."
        )
    discharged = episode["status"] == "discharged" or episode["discharge_date"] is not None
    if kind == "discharge" and not discharged:
        raise ValidationError(
            f"Episode {episode_id} has not been discharged; send a progress update instead."
        )
    partner = db.execute(
        "SELECT name, organization, fax, phone, address, city, state, zip FROM partners"
        " WHERE id = ?", [episode["partner_id"]]).fetchone()
    patient = db.execute(
        "SELECT name, birth_date, record_number, sex FROM patients WHERE id = ?",
        [episode["patient_id"]]).fetchone()
    name, org, fax, phone, address, city, state, zip_code = partner
    to = [name] + [x for x in (org, address) if x]
    place = " ".join(x for x in (f"{city}," if city else None, state, zip_code) if x)
    if place:
        to.append(place)
    if fax:
        to.append(f"Fax {fax}")
    elif phone:
        to.append(f"Phone {phone}")
    p_name, birth, record, _sex = patient
    ident = [("Patient", p_name or "name not recorded"), ("Date of birth", _fmt_date(birth)),
             ("Record number", record), ("Episode", episode_id)]
    visits = episode["visits"]
    care = (f"Referred {_fmt_date(episode['referral_date'])}; first visit "
            f"{_fmt_date(episode['first_visit_date'])}; "
            f"{visits if visits is not None else 'no'} visit{'' if visits == 1 else 's'} so far"
            + (f"; treating clinician {episode['clinician']}" if episode["clinician"] else "")
            + ".")
    sections = [
        ("Course of care", care),
        ("Date of onset", _fmt_date(episode["onset_date"])),
        ("Chief complaint", episode["chief_complaint"] or "not recorded"),
        ("Diagnosis (ICD-10)", episode["diagnosis"] or "not recorded"),
        ("Findings", episode["findings"] or "not recorded"),
        ("Treatment so far", episode["treatment"] or "not recorded"),
    ]
    if kind == "discharge":
        reason = (episode["discharge_reason"] or "not recorded").replace("_", " ")
        sections.append(("Discharge", f"Discharged {_fmt_date(episode['discharge_date'])}; "
                                      f"reason: {reason}."))
        sections.append(("Plan", episode["plan"] or "not recorded"))
    else:
        sections.append(("Plan", episode["plan"] or "Continue the current plan of care."))
    contact = str(settings.get(db, "clinic_contact"))
    clinic = str(settings.get(db, "clinic_name"))
    return Letter(
        kind=kind, episode_id=episode_id, partner_id=int(episode["partner_id"]),
        clinic_name=clinic, clinic_contact=contact, date=today, to=to, patient=ident,
        sections=sections, scores=_score_lines(db, episode_id, kind),
        signature=episode["clinician"] or clinic,
    )


def render_letter_markdown(letter: Letter) -> str:
    from outcomes.documents.packets.markdown import md_escape as e

    lines = [f"# {e(letter.clinic_name)}", "", e(letter.clinic_contact), "",
             f"## {letter.title}", "", f"Date: {letter.date:%B %-d, %Y}", "",
             "To: " + "  \n".join(e(x) for x in letter.to), ""]
    lines += [f"**{label}:** {e(value)}  " for label, value in letter.patient]
    lines.append("")
    for label, text in letter.sections:
        lines += [f"### {label}", "", e(text), ""]
    lines += ["### Outcome scores (intake -> latest)", ""]
    if letter.scores:
        lines += ["| Measure | Intake | Latest | Change | MCID |", "|---|---|---|---|---|"]
        lines += [f"| {e(s.measure)} | {e(s.intake)} | {e(s.latest)} | {e(s.change)} | "
                  f"{e(s.mcid)} |" for s in letter.scores]
    else:
        lines.append("No outcome scores recorded.")
    lines += ["", "Positive change means the patient got better. MCID: minimal clinically "
              "important difference.", "",
              f"Questions: {e(letter.clinic_contact or letter.clinic_name)}", "",
              e(letter.signature), ""]
    return "\n".join(lines)


def render_letter_pdf(letter: Letter) -> bytes:
    from fpdf.fonts import FontFace

    from outcomes.documents.packets.pdf import (
        CONTENT_W,
        font,
        heading,
        letterhead,
        new_document,
        para,
    )

    pdf = new_document(f"{letter.title}: episode {letter.episode_id}",
                       f"{letter.clinic_name} · {letter.title} · CONFIDENTIAL")
    letterhead(pdf, letter.clinic_name, letter.clinic_contact)
    para(pdf, letter.title, 15, bold=True, gap=2)
    para(pdf, f"Date: {letter.date:%B %-d, %Y}", 10.5, gap=4)
    para(pdf, "To: " + "\n".join(letter.to), 10.5, gap=4)
    for label, value in letter.patient:
        para(pdf, f"{label}: {value}", 11, bold=label == "Patient", gap=0)
    pdf.ln(4)
    for label, text in letter.sections:
        heading(pdf, label, 11.5)
        para(pdf, text, 10.5)
    heading(pdf, "Outcome scores (intake -> latest)", 11.5)
    if letter.scores:
        font(pdf, 9)
        with pdf.table(col_widths=(2.2, 1.5, 1.9, 1.2, 1.7), width=CONTENT_W, line_height=12,
                       text_align="LEFT", markdown=False, padding=3,
                       headings_style=FontFace(emphasis="BOLD",
                                               fill_color=(225, 225, 225))) as t:
            for values in [("Measure", "Intake", "Latest", "Change", "MCID"),
                           *[(s.measure, s.intake, s.latest, s.change, s.mcid)
                             for s in letter.scores]]:
                row = t.row()
                for value in values:
                    row.cell(pdf.safe(value))
        para(pdf, "Positive change means the patient got better. MCID: minimal clinically "
                  "important difference.", 8.5)
    else:
        para(pdf, "No outcome scores recorded.", 10.5)
    pdf.ln(6)
    para(pdf, f"Questions: {letter.clinic_contact or letter.clinic_name}", 10)
    para(pdf, letter.signature, 10.5, bold=True)
    return bytes(pdf.output())


def make_letter(db: Database, episode_id: str, kind: str, out: Path, *, today: date,
                channel: str | None = None, create_folder: bool = False) -> tuple[Letter, int]:
    """Write the letter (0600) and log it as a communication; return it and the log id."""
    from outcomes.models import Communication
    from outcomes.network.communications import store_communication
    from outcomes.store.files import write_private_bytes

    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValidationError(f"{out.name}: end the file name in .pdf or .md.")
    if out.is_dir():
        raise ValidationError(f"{out} is a folder; add a file name.")
    if create_folder:
        try:
            out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ValidationError(f"Cannot create the folder {out.parent} ({exc.strerror}).") \
                from None
    if not out.parent.is_dir():
        raise ValidationError(f"The folder {out.parent} does not exist.")
    letter = build_letter(db, episode_id, kind, today=today)
    data = (render_letter_pdf(letter) if fmt == "pdf"
            else render_letter_markdown(letter).encode("utf-8"))
    write_private_bytes(out, data)
    preferred = db.execute("SELECT preferred_contact FROM partners WHERE id = ?",
                           [letter.partner_id]).fetchone()
    comm_id = store_communication(db, Communication(
        partner_id=letter.partner_id, episode_id=episode_id, date=today, kind=KINDS[kind],
        channel=channel or (preferred[0] if preferred and preferred[0] else "fax"),
        note=f"{letter.title} ({fmt})",
    ))
    return letter, comm_id

