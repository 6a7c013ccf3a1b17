"""Inbound referrals as a user works them: record one, schedule, evaluate, discharge, close
(not scheduled or cancelled, with a reason) or reopen it. One set of status rules, used by the
command line and the dashboard alike.

Each job validates what the user typed, writes in one transaction, refreshes the per-episode
outcome summary when the episode changed, and writes the audit row with the old and new values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.errors import ValidationError
from outcomes.measures import summary
from outcomes.measures.conditions import normalize_fields
from outcomes.models import Episode, Patient, validate
from outcomes.network.episodes import EPISODE_COLUMNS, get_episode, save_episode, save_patient
from outcomes.store import audit
from outcomes.store.database import transaction
from outcomes.vocab import EPISODE_STATUSES

PATH = ("received", "scheduled", "evaluated", "in_care", "discharged")
"""Forward moves along the main path."""
ENDINGS = ("not_scheduled", "cancelled")
"""A referral can also end here, with a reason."""
SEEN = ("evaluated", "in_care", "discharged")
"""Statuses that need a first visit date."""


def status_label(status: str) -> str:
    """A status in plain words ("not scheduled", "in care")."""
    return status.replace("_", " ")


def check_transition(old: str, new: str) -> None:
    """Raise ValidationError unless ``old`` -> ``new`` is a move the referral can make.

    Forward along received -> scheduled -> evaluated -> in care -> discharged (steps may be
    skipped); to not scheduled from received or scheduled; to cancelled from any open status.
    A closed referral (discharged, not scheduled, cancelled) moves only by :func:`reopen`."""
    if old == new:
        return
    if old in ENDINGS or old == "discharged":
        raise ValidationError(f"the referral is already {status_label(old)}; reopen it first to "
                              "change its status.")
    if new in ENDINGS:
        if new == "not_scheduled" and old not in ("received", "scheduled"):
            raise ValidationError(f"a referral that is already {status_label(old)} was "
                                  "scheduled; use cancelled instead.")
        return
    if PATH.index(new) < PATH.index(old):
        raise ValidationError(f"a referral cannot go back from {status_label(old)} to "
                              f"{status_label(new)}.")


def check_requirements(status: str, data: Mapping[str, Any]) -> None:
    """The fields a status needs: a reason to close, a first visit to be seen, a discharge date
    to be discharged."""
    if status in ENDINGS and not data.get("status_reason"):
        raise ValidationError(f"a reason is required to mark a referral {status_label(status)}.",
                              field="status_reason")
    if status in SEEN and not data.get("first_visit_date"):
        raise ValidationError(f"the first visit date is required for status "
                              f"{status_label(status)}.", field="first_visit_date")
    if status == "discharged" and not data.get("discharge_date"):
        raise ValidationError("the discharge date is required to discharge a referral.",
                              field="discharge_date")


MOVES = ("scheduled", "evaluated", "in_care", "discharged", "not_scheduled", "cancelled")
"""The statuses a user moves a referral to by hand (``received`` is where it starts)."""
REOPEN = "reopen"
"""The move that takes a closed referral back (:func:`reopen`)."""


def allowed_moves(status: str) -> list[str]:
    """The moves a referral in ``status`` can make, in the order of care: the statuses
    :func:`check_transition` accepts (staying scheduled, to change the date, included; staying
    anywhere else is no move), or only :data:`REOPEN` once the referral is closed."""
    current = EPISODE_STATUSES.normalize(status)
    if current in ENDINGS or current == "discharged":
        return [REOPEN]
    moves = []
    for new in MOVES:
        if new == current and new != "scheduled":
            continue
        try:
            check_transition(current, new)
        except ValidationError:
            continue
        moves.append(new)
    return moves


def move_label(move: str) -> str:
    """A move in plain words, as a form offers it ("not scheduled", "reopened")."""
    return "reopened" if move == REOPEN else status_label(move)


def suggest_episode_id(db: Database) -> str:
    """An unused episode id following the clinic's own numbering: the most recently added id
    ending in digits, plus one, with its prefix and zero padding ("E00605" -> "E00606");
    "E00001" in an empty database."""
    prefix, number, width = "E", 0, 5
    for (last,) in db.execute("SELECT id FROM episodes ORDER BY rowid DESC LIMIT 50"):
        found = re.fullmatch(r"(.*?)(\d+)", str(last))
        if found:
            prefix, number, width = found[1], int(found[2]), len(found[2])
            break
    while True:
        number += 1
        candidate = f"{prefix}{number:0{width}d}"
        if not db.execute("SELECT 1 FROM episodes WHERE id = ?", [candidate]).fetchone():
            return candidate


@dataclass(frozen=True)
class ReferralSaved:
    episode_id: str
    outcome: str
    """"added", "updated" or "unchanged"."""
    status: str

    def message(self) -> str:
        if self.outcome == "added":
            return f"Added referral {self.episode_id} ({status_label(self.status)})."
        return f"Referral {self.episode_id}: {self.outcome} (status {status_label(self.status)})."


def _given(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items()
            if v is not None and not (isinstance(v, str) and not v.strip())}


def record_referral(db: Database, fields: Mapping[str, Any], *,
                    today: date | None = None) -> ReferralSaved:
    """Record a new inbound referral (an episode of care).

    ``fields``: ``id`` (the clinic's episode id), ``patient_record_number``, optionally
    ``patient_name``, ``birth_date``, ``sex``, ``partner_id`` (None: self-referred),
    ``referral_date``, ``body_region``, ``diagnosis``, ``clinician``, ``clinic``,
    ``scheduled_date``, ``first_visit_date``, ``chief_complaint``... (the Episode columns);
    ``procedure`` as typed (a synonym such as "TKA" is stored as its name), ``surgical`` and
    ``instrument`` (the primary measure, overriding the region's)."""
    data = _given(fields)
    normalize_fields(data)
    patient = validate(Patient, _given({
        "record_number": data.pop("patient_record_number", None),
        "name": data.pop("patient_name", None), "birth_date": data.pop("birth_date", None),
        "sex": data.pop("sex", None)}), today=today)
    data["patient_record_number"] = patient.record_number
    episode = validate(Episode, data, today=today)
    if episode.status:
        check_requirements(episode.status, episode.model_dump())
    with transaction(db):
        if db.execute("SELECT 1 FROM episodes WHERE id = ?", [episode.id]).fetchone():
            raise ValidationError(f"Episode {episode.id} already exists; change it instead "
                                  "(`outcomes referrals update`).", field="id")
        patient_id = save_patient(db, patient)
        save_episode(db, episode, patient_id)
        status = _status(db, episode.id)
        audit.log(db, "add", "episodes", id=episode.id, partner_id=episode.partner_id,
                  status=status)
    return ReferralSaved(episode.id, "added", status)


def _status(db: Database, episode_id: str) -> str:
    return str(db.execute("SELECT status FROM episodes WHERE id = ?",
                          [episode_id]).fetchone()[0])


def update_referral(db: Database, episode_id: str, changes: Mapping[str, Any], *,
                    today: date | None = None) -> ReferralSaved:
    """Change a referral: move its status (with the dates it needs), end it with a reason, or
    correct its fields. Fields given as None are left as they are."""
    old = get_episode(db, episode_id)
    record = db.execute("SELECT record_number FROM patients WHERE id = ?",
                        [old["patient_id"]]).fetchone()[0]
    data: dict[str, Any] = {col: old[col] for col in EPISODE_COLUMNS}
    data.update({"id": old["id"], "patient_record_number": record})
    wanted = _given(changes)
    status_text = wanted.pop("status", None)
    normalize_fields(wanted)
    data.update(wanted)
    if status_text:
        new_status = EPISODE_STATUSES.normalize(str(status_text))
        check_transition(old["status"], new_status)
        data["status"] = new_status
        check_requirements(new_status, data)
    episode = validate(Episode, {k: v for k, v in data.items() if v is not None}, today=today)
    with transaction(db):
        result = save_episode(db, episode, old["patient_id"])
        status = _status(db, episode.id)
        if result.outcome == "updated":
            summary.refresh(db, {episode.id})
            new_row = get_episode(db, episode.id)
            changed = {k: new_row[k] for k in (*EPISODE_COLUMNS, "status")
                       if new_row[k] != old[k]}
            audit.log(db, "update", "episodes", id=episode.id,
                      old={k: old[k] for k in changed}, new=changed)
    return ReferralSaved(episode.id, result.outcome, status)


def schedule(db: Database, episode_id: str, when: Any, *, today: date | None = None
             ) -> ReferralSaved:
    return update_referral(db, episode_id, {"status": "scheduled", "scheduled_date": when},
                           today=today)


def evaluate(db: Database, episode_id: str, first_visit: Any, *,
             today: date | None = None) -> ReferralSaved:
    return update_referral(db, episode_id, {"status": "evaluated",
                                            "first_visit_date": first_visit}, today=today)


def discharge(db: Database, episode_id: str, *, discharge_date: Any, visits: Any = None,
              reason: Any = None, today: date | None = None) -> ReferralSaved:
    return update_referral(db, episode_id, {
        "status": "discharged", "discharge_date": discharge_date, "visits": visits,
        "discharge_reason": reason}, today=today)


def close(db: Database, episode_id: str, status: str, reason: Any, *,
          today: date | None = None) -> ReferralSaved:
    """End a referral as not scheduled or cancelled; the reason is required."""
    if EPISODE_STATUSES.normalize(status) not in ENDINGS:
        raise ValidationError(f"a referral is closed as not scheduled or cancelled, not "
                              f"{status!r}.")
    return update_referral(db, episode_id, {"status": status, "status_reason": reason},
                           today=today)


def reopen(db: Database, episode_id: str, *, reason: Any) -> ReferralSaved:
    """Reopen a closed referral (discharged, not scheduled, cancelled): its status follows its
    dates again (received, scheduled, evaluated or in care). The reason goes to the audit log."""
    from outcomes.network.episodes import derive_status

    old = get_episode(db, episode_id)
    if old["status"] not in (*ENDINGS, "discharged"):
        raise ValidationError(f"referral {episode_id} is {status_label(old['status'])}, not "
                              "closed; there is nothing to reopen.")
    if not reason or not str(reason).strip():
        raise ValidationError("say why the referral is reopened.", field="reason")
    row = {**old, "discharge_date": None}
    status = derive_status(row)
    with transaction(db):
        db.execute("UPDATE episodes SET status = ?, status_reason = NULL, discharge_date = NULL,"
                   " discharge_reason = NULL WHERE id = ?", [status, episode_id])
        summary.refresh(db, {episode_id})
        audit.log(db, "reopen", "episodes", id=episode_id, reason=str(reason).strip(),
                  old={"status": old["status"], "discharge_date": old["discharge_date"],
                       "status_reason": old["status_reason"]},
                  new={"status": status})
    return ReferralSaved(episode_id, "updated", status)


@dataclass(frozen=True)
class ReferralListing:
    """One line of ``outcomes referrals list`` (no patient names)."""

    episode_id: str
    referral_date: str
    partner: str | None
    body_region: str
    diagnosis: str | None
    status: str
    status_reason: str | None
    first_visit_date: str | None
    discharge_date: str | None
    visits: int | None


def list_referrals(db: Database, *, partner_id: int | None = None, status: str | None = None,
                   since: date | None = None, limit: int = 200) -> list[ReferralListing]:
    """Inbound referrals, newest first."""
    where: list[str] = []
    params: list[Any] = []
    if partner_id is not None:
        where.append("e.partner_id = ?")
        params.append(partner_id)
    if status:
        where.append("e.status = ?")
        params.append(EPISODE_STATUSES.normalize(status))
    if since:
        where.append("e.referral_date >= ?")
        params.append(since.isoformat())
    return [ReferralListing(*row) for row in db.execute(
        "SELECT e.id, e.referral_date, p.name, e.body_region, e.diagnosis, e.status,"
        " e.status_reason, e.first_visit_date, e.discharge_date, e.visits"
        " FROM episodes e LEFT JOIN partners p ON p.id = e.partner_id"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY e.referral_date DESC, e.id LIMIT ?", [*params, limit])]


__all__ = ["ENDINGS", "MOVES", "PATH", "REOPEN", "ReferralListing", "ReferralSaved",
           "allowed_moves", "check_transition", "close", "discharge", "evaluate",
           "list_referrals", "move_label", "record_referral", "reopen", "schedule",
           "status_label", "suggest_episode_id", "update_referral"]
