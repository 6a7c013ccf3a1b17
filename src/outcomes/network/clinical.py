"""Clinical content of an episode (findings, diagnosis, plan of care, goals, the referral
question, precautions) and the plan-of-care certification: what letters to the referrer are
made from, and what the owed-document alerts read.

Patient text is stored as typed; every renderer escapes it for its own format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from outcomes.dates import now_iso
from outcomes.errors import ValidationError
from outcomes.models import ClinicalContent, Goal, validate
from outcomes.network.episodes import get_episode
from outcomes.store import audit
from outcomes.store.database import transaction

CLINICAL_COLUMNS = tuple(ClinicalContent.model_fields)
"""The episode columns this module writes (the model's fields, in order)."""

LABELS = {
    "onset_date": "Date of onset", "chief_complaint": "Chief complaint",
    "history": "Relevant history", "findings": "Objective findings",
    "diagnosis": "Diagnosis (ICD-10-CM)", "treatment": "Treatment given",
    "plan": "Plan of care", "plan_frequency": "Frequency", "plan_duration": "Duration",
    "plan_interventions": "Interventions", "referral_question": "Referral question",
    "precautions": "Precautions", "physician_follow_up": "Physician follow-up",
    "poc_sent_date": "Plan of care sent", "poc_certified_date": "Plan of care certified",
    "poc_certified_by": "Certified by",
}


@dataclass(frozen=True)
class GoalRow:
    id: int
    goal: str
    target_date: str | None
    status: str


@dataclass(frozen=True)
class Clinical:
    """An episode's clinical content as stored (ISO dates as strings; None when not recorded)."""

    episode_id: str
    values: dict[str, Any]
    goals: list[GoalRow]

    def get(self, key: str) -> Any:
        return self.values.get(key)


def get_clinical(db: Database, episode_id: str) -> Clinical:
    row = get_episode(db, episode_id)
    return Clinical(episode_id, {k: row[k] for k in CLINICAL_COLUMNS}, list_goals(db, episode_id))


def list_goals(db: Database, episode_id: str) -> list[GoalRow]:
    return [GoalRow(*r) for r in db.execute(
        "SELECT id, goal, target_date, status FROM episode_goals WHERE episode_id = ?"
        " ORDER BY id", [episode_id])]


@dataclass(frozen=True)
class ClinicalSaved:
    episode_id: str
    changed: tuple[str, ...]
    goals_added: int
    goals_changed: int

    def message(self) -> str:
        parts = []
        if self.changed:
            parts.append(", ".join(LABELS[k].lower() for k in self.changed))
        if self.goals_added:
            parts.append(f"{self.goals_added} goal{'s' if self.goals_added > 1 else ''} added")
        if self.goals_changed:
            parts.append(f"{self.goals_changed} goal status"
                         f"{'es' if self.goals_changed > 1 else ''} changed")
        if not parts:
            return f"Episode {self.episode_id}: clinical content unchanged."
        return f"Episode {self.episode_id}: saved {'; '.join(parts)}."


def _value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def update_clinical(db: Database, episode_id: str, fields: Mapping[str, Any], *,
                    goals: Sequence[Mapping[str, Any]] = (),
                    goal_status: Mapping[int, str] | None = None,
                    today: date | None = None) -> ClinicalSaved:
    """Save clinical content for an episode in one transaction: the fields given (None and blank
    leave a field as it is), new ``goals`` (``goal``, ``target_date``, ``status``) and status
    changes of existing goals by id (``goal_status``). Joins the caller's transaction."""
    given = {k: v for k, v in fields.items()
             if v is not None and not (isinstance(v, str) and not v.strip())}
    old = get_episode(db, episode_id)
    merged_how = given.get("poc_certified_by") or (
        old["poc_certified_by"] if "poc_certified_date" in given else None)
    data = dict(given)
    if merged_how and "poc_certified_date" in given:
        data["poc_certified_by"] = merged_how
    if data.get("poc_certified_date") and not data.get("poc_certified_by"):
        raise ValidationError("say how the plan of care was certified: signed (the signed plan "
                              "came back) or order on file.", field="poc_certified_by")
    content = validate(ClinicalContent, data, today=today)
    row = {k: _value(getattr(content, k)) for k in content.model_fields_set}
    if content.poc_certified_by and not (content.poc_certified_date or old["poc_certified_date"]):
        raise ValidationError("give the date the plan of care was certified.",
                              field="poc_certified_date")
    new_goals = [validate(Goal, dict(g), today=today) for g in goals]
    status_changes = {gid: validate(Goal, {"goal": "x", "status": s}).status
                      for gid, s in (goal_status or {}).items()}
    changed = {k: v for k, v in row.items() if old[k] != v}
    with transaction(db):
        if changed:
            db.execute(f"UPDATE episodes SET {', '.join(f'{k} = ?' for k in changed)},"
                       " updated_at = ? WHERE id = ?", [*changed.values(), now_iso(), episode_id])
        added = 0
        for goal in new_goals:
            added += db.execute(
                "INSERT INTO episode_goals (episode_id, goal, target_date, status, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [episode_id, goal.goal, _value(goal.target_date), goal.status, now_iso()],
            ).rowcount
        moved = 0
        for gid, status in status_changes.items():
            found = db.execute("SELECT status FROM episode_goals WHERE id = ? AND episode_id = ?",
                               [gid, episode_id]).fetchone()
            if found is None:
                raise ValidationError(f"episode {episode_id} has no goal {gid}.", field="goal")
            if found[0] != status:
                db.execute("UPDATE episode_goals SET status = ? WHERE id = ?", [status, gid])
                moved += 1
        if changed or added or moved:
            audit.log(db, "update", "episodes", id=episode_id,
                      old={k: old[k] for k in changed}, new=changed, goals_added=added,
                      goal_status=dict(status_changes))
    return ClinicalSaved(episode_id, tuple(k for k in CLINICAL_COLUMNS if k in changed),
                         added, moved)


@dataclass(frozen=True)
class EpisodeUpdated:
    referral: Any  # network.referrals.ReferralSaved, or None when no referral field was given
    clinical: ClinicalSaved

    def message(self) -> str:
        parts = [self.referral.message()] if self.referral is not None else []
        if self.referral is None or self.clinical.changed or self.clinical.goals_added \
                or self.clinical.goals_changed:
            parts.append(self.clinical.message())
        return " ".join(parts)


def update_episode(db: Database, episode_id: str, referral: Mapping[str, Any],
                   clinical: Mapping[str, Any], *, goals: Sequence[Mapping[str, Any]] = (),
                   goal_status: Mapping[int, str] | None = None,
                   today: date | None = None) -> EpisodeUpdated:
    """``referrals update`` in one transaction: the referral's own fields and status
    (``network.referrals.update_referral``) and its clinical content; all of it or none."""
    from outcomes.network.referrals import update_referral

    wanted = {k: v for k, v in referral.items() if v is not None}
    with transaction(db):
        saved = update_referral(db, episode_id, wanted, today=today) if wanted else None
        content = update_clinical(db, episode_id, clinical, goals=goals,
                                  goal_status=goal_status, today=today)
    return EpisodeUpdated(saved, content)


def parse_goal(text: str) -> dict[str, str]:
    """A goal as typed on the command line: ``TEXT`` or ``TEXT|TARGET DATE`` or
    ``TEXT|TARGET DATE|STATUS``."""
    parts = [p.strip() for p in text.split("|")]
    if len(parts) > 3:
        raise ValidationError(f"goal {text!r}: write TEXT, TEXT|TARGET DATE or "
                              "TEXT|TARGET DATE|STATUS.", field="goal")
    out = {"goal": parts[0]}
    if len(parts) > 1 and parts[1]:
        out["target_date"] = parts[1]
    if len(parts) > 2 and parts[2]:
        out["status"] = parts[2]
    return out


def parse_goal_status(text: str) -> tuple[int, str]:
    """``ID=STATUS`` (the goal ids are in ``outcomes referrals show``)."""
    gid, sep, status = text.partition("=")
    if not sep or not gid.strip().isascii() or not gid.strip().isdigit():
        raise ValidationError(f"goal status {text!r}: write GOAL_ID=STATUS, e.g. 3=met.",
                              field="goal_status")
    return int(gid.strip()), status.strip()


def certify_plan(db: Database, episode_id: str, *, how: str, when: Any,
                 today: date | None = None) -> ClinicalSaved:
    """Record the plan of care as certified: ``how`` is signed (the signed plan came back) or
    order on file; ``when`` the date. The plan-of-care alert stops from then on."""
    return update_clinical(db, episode_id, {"poc_certified_by": how, "poc_certified_date": when},
                           today=today)


__all__ = [
    "CLINICAL_COLUMNS",
    "LABELS",
    "Clinical",
    "ClinicalSaved",
    "GoalRow",
    "certify_plan",
    "get_clinical",
    "list_goals",
    "update_clinical",
]
