"""Coordination-of-care letters about one patient, made from what is on file: the evaluation
summary with the plan of care (and a certification block for the physician), a progress note,
a discharge summary (to the referring physician) and an outbound referral note (to the partner
the clinic refers the patient to).

Each letter follows its template (``documents.templates``: built in, or the clinic's own file in
the config folder) under the clinic's letterhead, and is written as PDF (for fax), Markdown or
plain text (for a portal). Unlike evidence packets, a letter identifies the patient (name, birth
date, record number): it is addressed to a clinician caring for them. Files are written
owner-only (0600). Every letter made is recorded as a communication *made*, with the file's
SHA-256; sending it is a separate step (``network.communications.mark_sent``), and only a sent
letter clears the owed-document alert.

One module because the letter record and its three renderers (PDF, Markdown, plain text) change
together: a new block in a template is drawn by all three. Templates are in ``templates``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from outcomes.documents import templates
from outcomes.documents.templates import KINDS as KINDS
from outcomes.errors import InstrumentError, NotFound, ValidationError
from outcomes.measures import catalog, scoring
from outcomes.network.episodes import get_episode
from outcomes.store import settings

DOCUMENTS = {"evaluation": "evaluation_summary", "progress": "progress_note",
             "discharge": "discharge_summary", "outbound": "outbound_note"}
"""The document each letter kind is recorded as (``communications.document``)."""
FORMATS = {".pdf": "pdf", ".md": "md", ".markdown": "md", ".txt": "txt"}
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class ScoreLine:
    measure: str
    intake: str
    latest: str
    change: str
    mcid: str


@dataclass(frozen=True)
class GoalLine:
    goal: str
    target: str
    status: str


@dataclass(frozen=True)
class Block:
    """One part of a letter, in template order: a section heading, a line of text, or one of
    the tables / the certification block."""

    kind: str  # "heading" | "text" | "blank" | "scores" | "goals" | "certification"
    text: str = ""


@dataclass(frozen=True)
class Letter:
    kind: str  # one of KINDS
    title: str
    episode_id: str
    partner_id: int
    clinic_name: str
    clinic_contact: str
    date: date
    to: list[str]
    patient: list[tuple[str, str]]
    blocks: list[Block]
    scores: list[ScoreLine] = field(default_factory=list)
    goals: list[GoalLine] = field(default_factory=list)
    certification: list[str] = field(default_factory=list)
    signature: str = ""
    template: str = "built-in"
    outbound_id: int | None = None

    def text_lines(self) -> list[str]:
        """Every line of text the letter says (for checks and the plain-text renderer)."""
        return [b.text for b in self.blocks if b.kind in ("heading", "text")]


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


GOAL_WORDS = {"open": "in progress", "met": "met", "partly_met": "partly met",
              "not_met": "not met"}


def _address(db: Database, partner_id: int) -> tuple[list[str], str | None]:
    partner = db.execute(
        "SELECT name, organization, fax, phone, address, city, state, zip, npi FROM partners"
        " WHERE id = ?", [partner_id]).fetchone()
    name, org, fax, phone, address, city, state, zip_code, npi = partner
    to = [name] + [x for x in (org, address) if x]
    place = " ".join(x for x in (f"{city}," if city else None, state, zip_code) if x)
    if place:
        to.append(place)
    if fax:
        to.append(f"Fax {fax}")
    elif phone:
        to.append(f"Phone {phone}")
    return to, npi


def _outbound(db: Database, episode_id: str, outbound_id: int | None) -> dict[str, Any]:
    if outbound_id is None:
        found = list(db.query("SELECT * FROM outbound_referrals WHERE episode_id = ?"
                              " ORDER BY date DESC, id DESC LIMIT 1", [episode_id]))
        if not found:
            raise ValidationError(
                f"Episode {episode_id} has no outbound referral; record one first (outcomes "
                "outbound add PARTNER --episode ... --reason ...).")
        return found[0]
    found = list(db.query("SELECT * FROM outbound_referrals WHERE id = ?", [outbound_id]))
    if not found:
        raise NotFound(f"No outbound referral with id {outbound_id}.")
    if found[0]["episode_id"] != episode_id:
        raise ValidationError(f"Outbound referral {outbound_id} is not about episode "
                              f"{episode_id}.")
    return found[0]


def build_letter(db: Database, episode_id: str, kind: str, *, today: date,
                 outbound_id: int | None = None, config: Path | None = None) -> Letter:
    """The letter of ``kind`` for an episode, from what is on file and the kind's template."""
    from outcomes.network.clinical import get_clinical

    if kind not in KINDS:
        raise ValidationError(f"--kind must be one of {', '.join(KINDS)}; got {kind!r}.")
    template = templates.load(kind, config)
    episode = get_episode(db, episode_id)
    if kind != "outbound" and episode["partner_id"] is None:
        raise ValidationError(
            f"Episode {episode_id} has no referring partner, so there is no one to address "
            "the letter to; set the episode's referrer first."
        )
    discharged = episode["status"] == "discharged" or episode["discharge_date"] is not None
    if kind == "discharge" and not discharged:
        raise ValidationError(
            f"Episode {episode_id} has not been discharged; send a progress note instead."
        )
    if kind == "evaluation" and not episode["first_visit_date"]:
        raise ValidationError(f"Episode {episode_id} has no first visit yet: there is no "
                              "evaluation to summarise.")
    outbound = _outbound(db, episode_id, outbound_id) if kind == "outbound" else None
    addressee = int(outbound["partner_id"] if outbound else episode["partner_id"])
    to, _npi = _address(db, addressee)
    patient = db.execute(
        "SELECT name, birth_date, record_number, sex FROM patients WHERE id = ?",
        [episode["patient_id"]]).fetchone()
    p_name, birth, record, _sex = patient
    ident = [("Patient", p_name or "name not recorded"), ("Date of birth", _fmt_date(birth)),
             ("Record number", record), ("Episode", episode_id)]
    clinical = get_clinical(db, episode_id)
    goals = [GoalLine(g.goal, _fmt_date(g.target_date) if g.target_date else "no target date",
                      GOAL_WORDS[g.status]) for g in clinical.goals]
    referrer = (db.execute("SELECT name, npi FROM partners WHERE id = ?",
                           [episode["partner_id"]]).fetchone()
                if episode["partner_id"] is not None else None)
    clinic = str(settings.get(db, "clinic_name"))
    contact = str(settings.get(db, "clinic_contact"))
    visits = episode["visits"]
    certified = clinical.get("poc_certified_date")
    how = {"signed": "signed plan returned", "order_on_file": "signed order on file"}

    def text(value: Any) -> str:
        return str(value) if value not in (None, "") else NOT_RECORDED

    values = {
        "patient": p_name or "the patient", "birth_date": _fmt_date(birth),
        "record_number": record, "episode": episode_id,
        "referrer": referrer[0] if referrer else "no referring physician",
        "clinic": clinic, "clinician": text(episode["clinician"]),
        "today": f"{today:%B %-d, %Y}", "body_region": episode["body_region"],
        "referral_date": _fmt_date(episode["referral_date"]),
        "first_visit": _fmt_date(episode["first_visit_date"]),
        "visits": str(visits) if visits is not None else NOT_RECORDED,
        "discharge_date": _fmt_date(episode["discharge_date"]),
        "discharge_reason": text(episode["discharge_reason"]).replace("_", " "),
        "onset_date": _fmt_date(clinical.get("onset_date")),
        "goals_met": (f"{sum(g.status == 'met' for g in clinical.goals)} of "
                      f"{len(clinical.goals)}" if clinical.goals else "no goals recorded"),
        "physician_follow_up": _fmt_date(clinical.get("physician_follow_up")),
        "poc_sent_date": _fmt_date(clinical.get("poc_sent_date")),
        "poc_certified": (f"{how[clinical.get('poc_certified_by')]}, "
                          f"{_fmt_date(certified)}" if certified else "not yet certified"),
        "outbound_to": to[0] if outbound else NOT_RECORDED,
        "outbound_date": _fmt_date(outbound["date"]) if outbound else NOT_RECORDED,
        "outbound_reason": text(outbound["reason"]) if outbound else NOT_RECORDED,
        "outbound_question": text(outbound["question"]) if outbound else NOT_RECORDED,
    }
    for key in ("chief_complaint", "history", "findings", "diagnosis", "treatment", "plan",
                "plan_frequency", "plan_duration", "plan_interventions", "referral_question",
                "precautions"):
        values[key] = text(clinical.get(key))
    blocks = [Block(line.text) if line.kind == "block"
              else Block(line.kind, templates.fill(line.text, values))
              for line in template.lines]
    while blocks and blocks[-1].kind == "blank":
        blocks.pop()
    certification = []
    if any(b.kind == "certification" for b in blocks):
        npi = referrer[1] if referrer else None
        start = values["first_visit"]
        certification = [
            "I have reviewed this plan of care and certify that the services are medically "
            "necessary and furnished while the patient is under my care.",
            f"Plan of care from {start}; duration {values['plan_duration']}; frequency "
            f"{values['plan_frequency']}.",
            f"Physician: {values['referrer']}" + (f"    NPI: {npi}" if npi else ""),
            "Signature: ________________________________    Date: ______________",
            f"Status on file: {values['poc_certified']}.",
            f"Please sign and return to {contact or clinic}.",
        ]
    return Letter(
        kind=kind, title=template.title, episode_id=episode_id, partner_id=addressee,
        clinic_name=clinic, clinic_contact=contact, date=today, to=to, patient=ident,
        blocks=blocks, scores=_score_lines(db, episode_id, kind), goals=goals,
        certification=certification, signature=episode["clinician"] or clinic,
        template=template.source, outbound_id=int(outbound["id"]) if outbound else None,
    )


def _score_rows(letter: Letter) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    if letter.kind == "evaluation":
        return ("Measure", "Intake"), [(s.measure, s.intake) for s in letter.scores]
    header = ("Measure", "Intake", "Latest", "Change", "MCID")
    return header, [(s.measure, s.intake, s.latest, s.change, s.mcid) for s in letter.scores]


SCORE_NOTE = ("Positive change means the patient got better. MCID: minimal clinically important "
              "difference.")


def render_letter_markdown(letter: Letter) -> str:
    from outcomes.documents.packets.markdown import md_escape as e

    lines = [f"# {e(letter.clinic_name)}", "", e(letter.clinic_contact), "",
             f"## {e(letter.title)}", "", f"Date: {letter.date:%B %-d, %Y}", "",
             "To: " + "  \n".join(e(x) for x in letter.to), ""]
    lines += [f"**{label}:** {e(value)}  " for label, value in letter.patient]
    lines.append("")
    for block in letter.blocks:
        if block.kind == "heading":
            lines += ([] if lines[-1] == "" else [""]) + [f"### {e(block.text)}", ""]
        elif block.kind == "text":
            lines.append(e(block.text) + "  ")
        elif block.kind == "blank":
            lines.append("")
        elif block.kind == "scores":
            header, rows = _score_rows(letter)
            if rows:
                lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                lines += ["| " + " | ".join(e(c) for c in row) + " |" for row in rows]
                lines += ["", SCORE_NOTE] if len(header) > 2 else [""]
            else:
                lines.append("No outcome scores recorded.")
        elif block.kind == "goals":
            if letter.goals:
                lines += ["", "| Goal | Target date | Status |", "|---|---|---|"]
                lines += [f"| {e(g.goal)} | {e(g.target)} | {e(g.status)} |"
                          for g in letter.goals]
                lines.append("")
            else:
                lines.append("No goals recorded.")
        elif block.kind == "certification":
            lines += [e(x) + "  " for x in letter.certification]
    lines += ["", f"Questions: {e(letter.clinic_contact or letter.clinic_name)}", "",
              e(letter.signature), ""]
    return "\n".join(lines)


def render_letter_text(letter: Letter) -> str:
    """Plain text for a portal: no markup at all; control characters shown as escapes."""
    from outcomes.text import printable

    def p(text: str) -> str:
        return printable(text, keep_newlines=True)

    lines = [p(letter.clinic_name)] + ([p(letter.clinic_contact)] if letter.clinic_contact
                                       else [])
    lines += ["", p(letter.title).upper(), "", f"Date: {letter.date:%B %-d, %Y}", ""]
    lines += ["To: " + p(letter.to[0]), *("    " + p(x) for x in letter.to[1:]), ""]
    lines += [f"{label}: {p(value)}" for label, value in letter.patient]
    lines.append("")
    for block in letter.blocks:
        if block.kind == "heading":
            lines += ([] if lines[-1] == "" else [""]) + [p(block.text).upper()]
        elif block.kind == "text":
            lines.append(p(block.text))
        elif block.kind == "blank":
            lines.append("")
        elif block.kind == "scores":
            header, rows = _score_rows(letter)
            if rows:
                lines += [" | ".join(header)]
                lines += [" | ".join(p(c) for c in row) for row in rows]
                lines += [SCORE_NOTE] if len(header) > 2 else []
            else:
                lines.append("No outcome scores recorded.")
        elif block.kind == "goals":
            lines += ([f"- {p(g.goal)} (target {p(g.target)}): {p(g.status)}"
                       for g in letter.goals] or ["No goals recorded."])
        elif block.kind == "certification":
            lines += [p(x) for x in letter.certification]
    lines += ["", f"Questions: {p(letter.clinic_contact or letter.clinic_name)}", "",
              p(letter.signature), ""]
    return "\n".join(lines)


def render_letter_pdf(letter: Letter) -> bytes:
    from fpdf.fonts import FontFace

    from outcomes.documents.packets.pdf import (
        CONTENT_W,
        MARGIN,
        font,
        heading,
        letterhead,
        new_document,
        para,
    )

    def left(text: str, size: float = 10.5, gap: float = 0, indent: float = 0) -> None:
        # Ragged right: a justified line of a short letter stretches into gaps on a fax.
        font(pdf, size)
        pdf.set_x(MARGIN + indent)
        pdf.multi_cell(CONTENT_W - indent, size * 1.3, pdf.safe(text), markdown=False,
                       align="L", new_x="LMARGIN", new_y="NEXT")
        if gap:
            pdf.ln(gap)

    pdf = new_document(f"{letter.title}: episode {letter.episode_id}",
                       f"{letter.clinic_name} · {letter.title} · CONFIDENTIAL")
    letterhead(pdf, letter.clinic_name, letter.clinic_contact)
    para(pdf, letter.title, 15, bold=True, gap=2)
    para(pdf, f"Date: {letter.date:%B %-d, %Y}", 10.5, gap=4)
    para(pdf, "To: " + "\n".join(letter.to), 10.5, gap=4)
    for label, value in letter.patient:
        para(pdf, f"{label}: {value}", 11, bold=label == "Patient", gap=0)
    pdf.ln(4)

    def grid(widths: tuple[float, ...], rows: list[tuple[str, ...]]) -> None:
        font(pdf, 9.5)
        with pdf.table(col_widths=widths, width=CONTENT_W, line_height=12.5,
                       text_align="LEFT", markdown=False, padding=3,
                       headings_style=FontFace(emphasis="BOLD",
                                               fill_color=(225, 225, 225))) as t:
            for values in rows:
                row = t.row()
                for value in values:
                    row.cell(pdf.safe(value))
        pdf.ln(3)

    for block in letter.blocks:
        if block.kind == "heading":
            heading(pdf, block.text, 11.5)
        elif block.kind == "text":
            left(block.text)
        elif block.kind == "blank":
            pdf.ln(4)
        elif block.kind == "scores":
            header, rows = _score_rows(letter)
            if rows:
                widths = (3.0, 2.0) if len(header) == 2 else (2.2, 1.5, 1.9, 1.2, 1.7)
                grid(widths, [header, *rows])
                if len(header) > 2:
                    para(pdf, SCORE_NOTE, 8.5)
            else:
                para(pdf, "No outcome scores recorded.", 10.5)
        elif block.kind == "goals":
            if letter.goals:
                grid((4.0, 1.5, 1.2), [("Goal", "Target date", "Status"),
                                       *[(g.goal, g.target, g.status) for g in letter.goals]])
            else:
                para(pdf, "No goals recorded.", 10.5)
        elif block.kind == "certification":
            pdf.ln(2)
            top = pdf.get_y()
            for line in letter.certification:
                left(line, gap=3, indent=6)
            pdf.set_line_width(0.8)
            pdf.rect(pdf.l_margin, top - 4, CONTENT_W, pdf.get_y() - top + 4)
            pdf.ln(4)
    pdf.ln(6)
    para(pdf, f"Questions: {letter.clinic_contact or letter.clinic_name}", 10)
    para(pdf, letter.signature, 10.5, bold=True)
    return bytes(pdf.output())


def render(letter: Letter, fmt: str) -> bytes:
    if fmt == "pdf":
        return render_letter_pdf(letter)
    if fmt == "md":
        return render_letter_markdown(letter).encode("utf-8")
    return render_letter_text(letter).encode("utf-8")


def make_letter(db: Database, episode_id: str, kind: str, out: Path, *, today: date,
                channel: str | None = None, create_folder: bool = False,
                outbound_id: int | None = None, config: Path | None = None
                ) -> tuple[Letter, int]:
    """Write the letter (0600) and record it as a communication *made* (with the file's
    SHA-256); return it and the communication id. Sending it is ``mark_sent``."""
    import hashlib

    from outcomes.models import Communication
    from outcomes.network.communications import DOCUMENT_KINDS, store_communication
    from outcomes.store.files import write_private_bytes

    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValidationError(f"{out.name}: end the file name in .pdf, .md or .txt.")
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
    letter = build_letter(db, episode_id, kind, today=today, outbound_id=outbound_id,
                          config=config)
    data = render(letter, fmt)
    write_private_bytes(out, data)
    preferred = db.execute("SELECT preferred_contact FROM partners WHERE id = ?",
                           [letter.partner_id]).fetchone()
    document = DOCUMENTS[kind]
    comm_id = store_communication(db, Communication(
        partner_id=letter.partner_id, episode_id=episode_id, date=today,
        kind=DOCUMENT_KINDS[document],
        channel=channel or (preferred[0] if preferred and preferred[0] else "fax"),
        note=f"{letter.title} ({fmt})",
    ), document=document, status="made", sha256=hashlib.sha256(data).hexdigest(),
        file=str(out.resolve()))
    return letter, comm_id
