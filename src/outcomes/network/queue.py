"""The alert queue a user works through: alerts grouped by kind, done and snoozed states that
persist, the action each kind calls for, and each alert's evidence in plain words.

Built on ``network.alerts.compute_alerts`` (which decides *what* needs doing); this module
decides how a person works through it. A state is keyed by a stable alert key (kind, partner,
episode and the alert's subject, e.g. the NPS answer or the year of spend) and remembers the
alert's facts when it was set: a done alert stays hidden until its facts change (a new touch
then overdue again, more spend, a second update owed), a snoozed one until the snooze ends or
its facts change. Day counts ("52 days ago") are not facts: they grow every day by themselves.

The first-run steps of an empty clinic live here too: they are the queue of a clinic with
nothing in it yet. One module because the grouping, the states, the words and the actions of
the queue change together (a new alert kind touches all four) and the dashboard reads them as
one thing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from itertools import takewhile
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

from outcomes.dates import now_iso
from outcomes.errors import ValidationError

if TYPE_CHECKING:
    from sqlite_utils import Database

    from outcomes.network.alerts import Alert, Deferred
    from outcomes.store.database import Queryable

SNOOZE_DAYS = 7
"""How long ``z`` (snooze) hides an alert unless its facts change first."""

MAX_SNOOZE_DAYS = 365

DONE, SNOOZED = "done", "snoozed"

# What the alert is about, beyond its kind, partner and episode: two alerts of one kind for
# the same partner and episode differ by this evidence field (one per NPS answer, one per
# calendar year of spend, one per milestone of an episode).
SUBJECT_FIELD: dict[str, str] = {
    "detractor": "nps_id",
    "spend_limit": "year",
    "update_owed": "milestone",
    "document_owed": "document",
    "findings_overdue": "outbound_id",
    "patient_worsening": "scale",
    "first_referral": "first_referral",
}

# (one, many): "1 update owed", "38 updates owed". Unknown kinds fall back to their words.
KIND_NAMES: dict[str, tuple[str, str]] = {
    "spend_limit": ("spend warning", "spend warnings"),
    "detractor": ("unhappy patient", "unhappy patients"),
    "patient_worsening": ("patient not improving", "patients not improving"),
    "referral_unscheduled": ("referral not scheduled", "referrals not scheduled"),
    "relationship_at_risk": ("partner at risk", "partners at risk"),
    "update_owed": ("update owed", "updates owed"),
    "document_owed": ("letter owed", "letters owed"),
    "findings_overdue": ("findings not back", "findings not back"),
    "first_referral": ("first referral to thank", "first referrals to thank"),
    "touch_overdue": ("touch overdue", "touches overdue"),
}

# The one action key ("a") of each kind: the front ends map these names to their forms.
OPEN_PARTNER, LOG_TOUCHPOINT, WRITE_LETTER, LOG_UPDATE = (
    "open_partner", "log_touchpoint", "write_letter", "log_update")
ACTIONS: dict[str, str] = {
    "spend_limit": OPEN_PARTNER,
    "detractor": OPEN_PARTNER,
    "patient_worsening": OPEN_PARTNER,
    "referral_unscheduled": OPEN_PARTNER,
    "relationship_at_risk": LOG_TOUCHPOINT,
    "update_owed": WRITE_LETTER,
    "document_owed": WRITE_LETTER,
    "findings_overdue": OPEN_PARTNER,
    "first_referral": LOG_TOUCHPOINT,
    "touch_overdue": LOG_TOUCHPOINT,
}
ACTION_LABELS: dict[str, str] = {
    OPEN_PARTNER: "open the partner",
    LOG_TOUCHPOINT: "log the call or visit",
    WRITE_LETTER: "write the owed letter",
    LOG_UPDATE: "log the update sent",
}


def plain(value: str) -> str:
    """A stored code in words: ``update_owed`` -> ``update owed``."""
    return str(value).replace("_", " ")


def kind_name(kind: str, n: int = 1) -> str:
    """The kind in plain words, singular or plural for ``n``."""
    one, many = KIND_NAMES.get(kind, (plain(kind), plain(kind) + "s"))
    return one if n == 1 else many


def count_label(kind: str, n: int) -> str:
    """``38 updates owed``."""
    return f"{n} {kind_name(kind, n)}"


def action_of(kind: str) -> str:
    return ACTIONS.get(kind, OPEN_PARTNER)


def alert_key(alert: Alert | Deferred) -> str:
    """The stable key of an alert: kind, partner, episode and subject (see SUBJECT_FIELD).
    A deferred alert carries its subject (the evidence field it will have)."""
    if isinstance(alert, tuple):  # alerts.Deferred
        subject = alert.subject
    else:
        field_name = SUBJECT_FIELD.get(alert.kind)
        subject = None if field_name is None else alert.evidence.get(field_name)
    pid = alert.partner_id
    return (f"{alert.kind}|{'' if pid is None else pid}|{alert.episode_id or ''}|"
            f"{'' if subject is None else subject}")


def _volatile(name: str) -> bool:
    # Counts of days up to today change every day without anything happening.
    return name.startswith("days_") or name == "business_days"


def alert_facts(alert: Alert) -> str:
    """A fingerprint of what the alert says, without the day counts: when it differs from the
    one stored with a done or snoozed state, the alert comes back."""
    facts = {k: v for k, v in alert.evidence.items() if not _volatile(k)}
    payload = json.dumps([alert.urgency, facts], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class AlertState:
    """An alert marked done or snoozed, with the facts it had then (new facts reopen it)."""

    key: str
    state: str
    """``done`` or ``snoozed``."""
    facts: str
    until: date | None = None
    """The first day a snoozed alert shows again."""

    def hides(self, facts: str, today: date) -> bool:
        """True while this state keeps an alert with these facts out of the queue."""
        if facts != self.facts:
            return False
        if self.state == SNOOZED:
            return self.until is not None and today < self.until
        return self.state == DONE


class QueueItem:
    """One alert of the queue and its key. The alert may come unworded
    (``alerts.Deferred``): it is written the first time ``alert`` is read, so a queue of
    15,000 owed letters words the few the dashboard shows (wording them all took ~0.15 s of
    its start on a big history)."""

    __slots__ = ("_alert", "_facts", "_make", "key", "kind", "urgency")

    def __init__(self, alert: Alert | Deferred, key: str) -> None:
        self.key = key
        self.kind: str = alert.kind
        self.urgency: int = alert.urgency
        self._facts: str | None = None
        if isinstance(alert, tuple):  # a Deferred (a NamedTuple); an Alert is a dataclass
            self._alert: Alert | None = None
            self._make: Callable[[], Alert] | None = alert.make
        else:
            self._alert, self._make = alert, None

    @property
    def alert(self) -> Alert:
        if self._alert is None:
            assert self._make is not None
            self._alert, self._make = self._make(), None
        return self._alert

    @property
    def facts(self) -> str:
        """The alert's fingerprint (:func:`alert_facts`), computed when first asked for: only
        an alert marked done or snoozed needs it, and a queue of 15,000 alerts spent a third of
        a second hashing them all on the dashboard's start."""
        if self._facts is None:
            self._facts = alert_facts(self.alert)
        return self._facts

    @property
    def action(self) -> str:
        return action_of(self.kind)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueueItem):
            return NotImplemented
        return (self.key, self.alert) == (other.key, other.alert)

    __hash__ = None  # type: ignore[assignment]  # as the alert's: its evidence is a dict

    def __repr__(self) -> str:
        return f"QueueItem(key={self.key!r}, kind={self.kind!r})"


@dataclass(frozen=True)
class KindGroup:
    """The open alerts of one kind, in the queue's order."""

    kind: str
    items: tuple[QueueItem, ...]

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def label(self) -> str:
        return count_label(self.kind, self.count)

    @property
    def urgency(self) -> int:
        return min(item.urgency for item in self.items)


@dataclass(frozen=True)
class Queue:
    """The alert queue as the faces show it: open alerts grouped by kind."""

    groups: tuple[KindGroup, ...]
    """Open alerts by kind, the most urgent kind first (a kind ranks by its most urgent
    alert); inside a kind, the order ``compute_alerts`` gave."""
    done: int = 0
    snoozed: int = 0
    complete: bool = True
    """False for the first part of a queue still being computed (:func:`queue_stages`): its
    groups are the whole queue's first groups exactly (same alerts, same order, same counts)
    and more may follow; ``done`` and ``snoozed`` count only those groups' kinds."""

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def kinds(self) -> list[str]:
        return [g.kind for g in self.groups]

    def group(self, kind: str) -> KindGroup | None:
        return next((g for g in self.groups if g.kind == kind), None)

    def items(self, kind: str | None = None) -> list[QueueItem]:
        return [i for g in self.groups if kind in (None, g.kind) for i in g.items]

    def summary(self) -> str:
        """``3 touches overdue · 38 updates owed ...`` (hidden ones counted at the end)."""
        parts = [g.label for g in self.groups]
        hidden = [f"{n} {what}" for n, what in ((self.done, "done"), (self.snoozed, "snoozed"))
                  if n]
        if not parts:
            parts = ["nothing to do"]
        return " · ".join(parts) + (f" ({', '.join(hidden)})" if hidden else "")


def build_queue(alerts: Iterable[Alert | Deferred], states: Mapping[str, AlertState],
                today: date) -> Queue:
    """The queue of ``alerts`` once done and snoozed ones are set aside (pure). Deferred
    alerts are worded only when read, or when a state must compare their facts."""
    items, done, snoozed = _open_items(alerts, states, today)
    by_kind: dict[str, list[QueueItem]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    groups = [KindGroup(kind, tuple(items)) for kind, items in by_kind.items()]
    # Stable: kinds of equal urgency keep the order they first appeared in.
    groups.sort(key=lambda g: g.urgency)
    return Queue(tuple(groups), done=done, snoozed=snoozed)


def load_states(db: Queryable) -> dict[str, AlertState]:
    return {
        key: AlertState(key, state, facts, None if until is None else date.fromisoformat(until))
        for key, state, facts, until in db.execute(
            "SELECT key, state, facts, until FROM alert_states")
    }


def work_queue(db: Queryable, today: date) -> Queue:
    """Today's alerts (``compute_alerts``) as a queue to work through; a plain read-only
    connection serves (the dashboard's worker reads it before any sqlite-utils import)."""
    from outcomes.network.alerts import compute_deferred

    # The rules call only execute (tests/test_lean_imports.py runs them on a plain
    # connection and compares the queue), though they are typed for sqlite-utils'.
    return build_queue(compute_deferred(cast("Database", db), today), load_states(db), today)


def _open_items(alerts: Iterable[Alert | Deferred], states: Mapping[str, AlertState],
                today: date) -> tuple[list[QueueItem], int, int]:
    """The items of ``alerts`` that no done or snoozed state hides, in their order, and how
    many were hidden as done and as snoozed."""
    items: list[QueueItem] = []
    done = snoozed = 0
    for alert in alerts:
        item = QueueItem(alert, alert_key(alert))
        state = states.get(item.key)
        if state is not None and state.hides(item.facts, today):
            done += state.state == DONE
            snoozed += state.state == SNOOZED
            continue
        items.append(item)
    return items, done, snoozed


def _ranks_before(bound: tuple[int, int], group: KindGroup) -> bool:
    from outcomes.network.alerts import CHECK_INDEX

    return (group.urgency, CHECK_INDEX[group.kind]) < bound


def queue_stages(db: Queryable, today: date) -> Iterator[Queue]:
    """:func:`work_queue` in stages, for a screen that shows the first alerts while the rest
    are computed: the kinds are computed in the order they can rank (``alerts.STAGES``), and
    whenever more of the queue's first groups are certain (no kind still to compute could
    rank before them), a partial queue of those groups (``complete=False``) is yielded. The
    last queue yielded is the whole one (``complete=True``), equal to ``work_queue``'s.

    Why: on a big history the owed letters (15,000 ranked), the declines and the rest took
    ~0.5 s of CPU before the dashboard could show anything, where its first rows (the kinds
    that can be most urgent) are known after a fifth of that."""
    from outcomes.network.alerts import CHECK_INDEX, STAGES, alerts_by_kind, rank_bound

    states = load_states(db)
    built: dict[str, tuple[list[QueueItem], int, int]] = {}
    shown = 0
    for kind, alerts in alerts_by_kind(cast("Database", db), today):
        # One kind's open items in queue order (by urgency, stable), as build_queue has them.
        built[kind] = _open_items(sorted(alerts, key=attrgetter("urgency")), states, today)
        groups = [KindGroup(k, tuple(items)) for k, (items, _, _) in built.items() if items]
        # build_queue's order: by the most urgent open alert, ties in the order the kinds'
        # alerts were merged (CHECKS), since the merge sorted them stably by urgency.
        groups.sort(key=lambda g: (g.urgency, CHECK_INDEX[g.kind]))
        done = sum(d for _, d, _ in built.values())
        snoozed = sum(s for _, _, s in built.values())
        left = [rank_bound(k) for k, _ in STAGES if k not in built]
        if not left:
            yield Queue(tuple(groups), done=done, snoozed=snoozed)
            return
        bound = min(left)
        settled = list(takewhile(partial(_ranks_before, bound), groups))
        if len(settled) > shown:
            shown = len(settled)
            kinds = {g.kind for g in settled}
            yield Queue(tuple(settled), complete=False,
                        done=sum(built[k][1] for k in kinds),
                        snoozed=sum(built[k][2] for k in kinds))


def _set_state(db: Database, item: QueueItem, state: str, until: date | None) -> None:
    from outcomes.store import audit
    from outcomes.store.database import transaction

    with transaction(db):
        old = db.execute("SELECT state, facts, until FROM alert_states WHERE key = ?",
                         [item.key]).fetchone()
        db.execute(
            "INSERT INTO alert_states (key, kind, state, facts, until, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET state = excluded.state,"
            " facts = excluded.facts, until = excluded.until, updated_at = excluded.updated_at",
            [item.key, item.kind, state, item.facts,
             None if until is None else until.isoformat(), now_iso()])
        audit.log(db, state, "alert_states", key=item.key,
                  old=None if old is None else list(old),
                  until=None if until is None else until.isoformat())


def mark_done(db: Database, item: QueueItem) -> str:
    """Hide the alert until its facts change; returns what to tell the user."""
    _set_state(db, item, DONE, None)
    return f"Done: {kind_name(item.kind)}" + (
        f" for {item.alert.partner}." if item.alert.partner else ".")


def snooze(db: Database, item: QueueItem, today: date, days: int = SNOOZE_DAYS) -> str:
    """Hide the alert for ``days`` days (or until its facts change)."""
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        raise ValidationError(f"Snooze for 1 to {MAX_SNOOZE_DAYS} days, not {days}.")
    until = today + timedelta(days=days)
    _set_state(db, item, SNOOZED, until)
    return f"Snoozed until {until:%a %d %b}: {kind_name(item.kind)}" + (
        f" for {item.alert.partner}." if item.alert.partner else ".")


def reopen(db: Database, key: str) -> bool:
    """Forget the state of ``key`` (undo a done or a snooze); False when it had none."""
    from outcomes.store import audit
    from outcomes.store.database import transaction

    with transaction(db):
        old = db.execute("SELECT state, facts, until FROM alert_states WHERE key = ?",
                         [key]).fetchone()
        if old is None:
            return False
        db.execute("DELETE FROM alert_states WHERE key = ?", [key])
        audit.log(db, "reopen", "alert_states", key=key, old=list(old))
    return True


# --- evidence in plain words -------------------------------------------------------------

def _days_ago(n: Any) -> str:
    if n is None:
        return ""
    n = int(n)
    return "today" if n == 0 else "yesterday" if n == 1 else f"{n} days ago"


def _when(iso: Any, days: Any = None) -> str:
    if iso is None:
        return "never"
    ago = _days_ago(days)
    return f"{iso} ({ago})" if ago else str(iso)


def _num(value: Any) -> str:
    return "?" if value is None else f"{round(float(value), 1):g}"


def _scale_name(instrument: Any, scale: Any) -> str:
    # The worsening rule's own reading of the survey files (no pydantic, no catalog): the
    # dashboard words its first worsening alert before the first screen is complete.
    from outcomes.errors import OutcomesError
    from outcomes.network.worsening import scale_facts

    try:
        found = scale_facts().get(str(instrument))
    except OutcomesError:  # a broken survey file of the clinic's: fall back to the id
        found = None
    if found is not None and str(scale) in found:
        return found[str(scale)].name
    return plain(str(scale or instrument)).upper()


def _money(value: Any) -> str:
    return f"${float(value):,.2f}"


def _sentences(kind: str, ev: Mapping[str, Any]) -> list[str] | None:
    g = ev.get
    if kind == "touch_overdue":
        return [f"Stage: {plain(g('stage', '?'))}, a touch every {g('cadence_days')} days.",
                f"Last touch: {_when(g('last_touch'), g('days_since'))}.",
                f"Overdue by: {g('days_overdue')} days."]
    if kind == "update_owed":
        return [f"Milestone: {plain(g('milestone', '?'))} on "
                f"{_when(g('milestone_date'), g('days_since'))}.",
                f"Last update sent for this episode: {_when(g('last_sent'))}."]
    if kind == "document_owed":
        reasons = ", ".join(plain(r) for r in g("reasons") or [])
        return [f"Owed: {plain(g('document', '?'))} ({plain(g('stage', '') or 'owed')}).",
                f"Since: {_when(g('since'), g('days'))}." + (f" Why: {reasons}." if reasons
                                                             else "")]
    if kind == "first_referral":
        return [f"First referral: {_when(g('first_referral'), g('days_since'))}.",
                "Touches or letters since: none."]
    if kind == "spend_limit":
        return [f"Spent in {g('year')}: {_money(g('spent', 0))} of {_money(g('limit', 0))} "
                f"({float(g('share', 0)):.0%}).",
                f"Warning from: {_money(g('warn_at', 0))}; left: {_money(g('remaining', 0))}.",
                *([f"Limit set for: {g('limit_year')} (check this year's figure)."]
                  if g("limit_year") not in (None, g("year")) else [])]
    if kind == "detractor":
        comment = (g("comment") or "").strip()
        return [f"Score: {g('score')} out of 10, on {g('date')}.",
                f"Comment: {comment!r}." if comment else "Comment: none."]
    if kind == "referral_unscheduled":
        return [f"Referred: {g('referral_date')}.",
                f"Waiting: {g('business_days')} business days (standard: "
                f"{g('allowed_business_days')})."]
    if kind == "patient_worsening":
        mcid = "" if g("mcid_points") is None else f" (MCID {_num(g('mcid_points'))} points)"
        return [f"Measure: {_scale_name(g('instrument'), g('scale'))}; intake "
                f"{_num(g('intake'))} on {g('intake_date')}, latest {_num(g('latest'))} on "
                f"{g('latest_date')}.",
                f"Change: {_num(g('improvement'))}{mcid}; visits: {g('visits')}.",
                f"Clinician: {g('clinician') or 'none recorded'}."]
    if kind == "relationship_at_risk":
        recent = ", ".join(str(n) for n in g("recent_counts") or [])
        return [f"Referrals: {g('shortfall_referrals')} in the last {g('shortfall_months')} "
                f"months against about {float(g('shortfall_expected') or 0):.0f} expected "
                f"(usually {_num(g('baseline_per_month'))} a month).",
                *([f"Recent months: {recent}."] if recent else []),
                f"Last touch: {_when(g('last_touch'), g('days_since_touch'))}"
                + (", overdue." if g("touch_overdue") else "."),
                f"Last patient referred back: "
                f"{_when(g('last_referral_back'), g('days_since_referral_back'))}.",
                f"Latest packet: {_when(g('latest_packet'))}."]
    return None


def _generic(ev: Mapping[str, Any]) -> list[str]:
    out = []
    for name, value in ev.items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(plain(str(v)) for v in value) or "none"
        elif value is None:
            value = "none"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        out.append(f"{plain(name).capitalize()}: {plain(str(value))}.")
    return out


def evidence_sentences(alert: Alert) -> list[str]:
    """The alert's numbers as short labelled sentences (``Last touch: 2026-09-01 (82 days
    ago).``), never a key=value dump. Unknown kinds or evidence read field by field."""
    try:
        found = _sentences(alert.kind, alert.evidence)
    except (TypeError, ValueError):  # evidence of another shape (a newer alerts module)
        found = None
    return found if found is not None else _generic(alert.evidence)


# --- first run ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FirstRun:
    """How far a new clinic has come: its name, partners and referrals on file."""

    clinic_named: bool
    clinic_name: str
    partners: int
    referrals: int
    steps: list[tuple[str, bool]] = field(default_factory=list)
    """(step, done) in the order a new clinic does them: ``clinic_name``, ``partners``,
    ``referral`` (each face words them with its own keys or commands)."""

    @property
    def empty(self) -> bool:
        """Nothing recorded yet: the dashboard shows the guide instead of empty panels."""
        return self.partners == 0 and self.referrals == 0


def first_run(db: Queryable) -> FirstRun:
    """Where a new clinic stands: named, partners, referrals."""
    stored = db.execute("SELECT value FROM settings WHERE key = 'clinic_name'").fetchone()
    named = stored is not None
    partners = int(db.execute("SELECT count(*) FROM partners").fetchone()[0])
    referrals = int(db.execute("SELECT count(*) FROM episodes").fetchone()[0])
    if named:
        name = str(json.loads(stored[0]))
    else:
        # The default name lives in the settings module, which imports sqlite-utils (and numpy
        # through it, ~0.25 s): only a clinic not yet named pays that before the KPIs show.
        from outcomes.store import settings

        name = str(settings.get(db, "clinic_name"))
    steps = [("clinic_name", named), ("partners", partners > 0), ("referral", referrals > 0)]
    return FirstRun(named, name, partners, referrals, steps)


def validate_clinic_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise ValidationError("Type the clinic's name.", field="clinic_name")
    if len(name) > 120:
        raise ValidationError("The clinic's name is at most 120 characters.",
                              field="clinic_name")
    return name


def name_clinic(db: Database, text: str) -> str:
    """Store the clinic's name (it heads letters and packets); returns what to tell the user."""
    from outcomes.store import audit, settings
    from outcomes.store.database import transaction

    name = validate_clinic_name(text)
    with transaction(db):
        old = settings.get(db, "clinic_name")
        settings.set_value(db, "clinic_name", name)
        audit.log(db, "update", "settings", key="clinic_name", old=old, new=name)
    return f"The clinic is now named {name}."

