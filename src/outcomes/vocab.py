"""The app's controlled vocabularies and the synonyms people actually type.

Each vocabulary maps a canonical value to the spellings accepted for it (matched
case-insensitively, ignoring punctuation and extra spaces). Unknown values are errors that list
the valid ones; nothing is silently mapped to "other".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from outcomes.errors import ValidationError


class Vocabulary:
    """A closed set of canonical values with accepted synonyms."""

    def __init__(self, what: str, synonyms: Mapping[str, tuple[str, ...]]) -> None:
        self.what = what
        self.values: tuple[str, ...] = tuple(synonyms)
        self._lookup: dict[str, str] = {}
        for canonical, alternatives in synonyms.items():
            for spelling in (canonical, *alternatives):
                key = _fold(spelling)
                if key in self._lookup and self._lookup[key] != canonical:
                    raise ValueError(f"{what}: {spelling!r} is a synonym of two values")
                self._lookup[key] = canonical

    def normalize(self, text: str) -> str:
        """The canonical value for ``text``, or ValidationError listing the valid values."""
        found = self._lookup.get(_fold(text))
        if found is None:
            raise ValidationError(
                f"{text!r} is not a known {self.what}; use one of: {', '.join(self.values)}."
            )
        return found

    def __contains__(self, value: object) -> bool:
        return value in self.values


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9/]+", " ", str(text).lower()).strip()


PARTNER_KINDS = Vocabulary(
    "partner kind",
    {
        "primary care": ("pcp", "primary care physician", "family medicine", "family practice",
                         "general practice", "gp", "fp", "family physician"),
        "internal medicine": ("internist", "im", "internal med"),
        "orthopedic surgeon": ("orthopedics", "orthopaedics", "orthopaedic surgeon", "ortho",
                               "orthopedic", "orthopaedic", "orthopedic surgery"),
        "spine surgeon": ("spine", "spine surgery", "neurosurgeon", "neurosurgery"),
        "neurologist": ("neurology", "neuro"),
        "sports medicine": ("sports med", "sports medicine physician", "sports"),
        "podiatrist": ("podiatry", "dpm", "foot and ankle"),
        "chiropractor": ("chiropractic", "dc", "chiro"),
        "physical therapist": ("pt", "physical therapy", "physiotherapist", "physio"),
        "occupational therapist": ("ot", "occupational therapy"),
        "pain management": ("pain", "pain specialist", "pain medicine", "anesthesiology pain",
                            "physiatrist", "pm&r", "pm r", "pmr",
                            "physical medicine and rehabilitation"),
        "mental health": ("psychologist", "psychiatrist", "counselor", "therapist mental health",
                          "behavioral health", "psychology", "psychiatry"),
        "hospital": ("health system", "medical center", "er", "emergency department"),
        "personal-injury attorney": ("attorney", "lawyer", "pi attorney", "personal injury",
                                     "personal injury attorney", "law firm"),
        "employer": ("workplace", "company", "occupational health"),
        "other": (),
    },
)

BODY_REGIONS = Vocabulary(
    "body region",
    {
        "low back": ("lumbar", "lumbar spine", "lower back", "back", "lbp", "low back pain",
                     "lumbosacral", "thoracolumbar"),
        "neck": ("cervical", "cervical spine", "c spine", "neck pain"),
        "shoulder": ("rotator cuff", "shoulders"),
        "elbow": ("forearm",),
        "wrist/hand": ("wrist", "hand", "wrist hand", "hand/wrist", "hand wrist", "fingers",
                       "thumb"),
        "hip": ("hips", "pelvis"),
        "knee": ("knees",),
        "ankle/foot": ("ankle", "foot", "ankle foot", "foot/ankle", "foot ankle", "heel"),
        "other": ("thoracic", "multiple", "general"),
    },
)

STAGES = Vocabulary(
    "partner stage",
    {
        "prospect": ("lead", "new"),
        "outreach": ("contacted", "courting"),
        "active": (),
        "growing": (),
        "mature": ("established", "core"),
        "dormant": ("inactive", "lapsed"),
    },
)

TOUCH_METHODS = Vocabulary(
    "touchpoint method",
    {
        "phone": ("call", "phone call", "telephone", "voicemail"),
        "email": ("e mail", "mail electronic"),
        "in person": ("visit", "office visit", "drop in", "drop by", "in-person", "meeting"),
        "letter": ("mail", "postal", "card", "thank you card"),
        "fax": ("facsimile",),
        "lunch and learn": ("lunch", "lunch & learn", "lunch n learn", "lunch-and-learn",
                            "in service", "inservice"),
        "event": ("conference", "dinner", "seminar"),
        "packet": ("evidence packet", "outcomes packet", "report"),
        "other": (),
    },
)

EPISODE_STATUSES = Vocabulary(
    "referral status",
    {
        "received": ("new", "referred"),
        "scheduled": ("booked",),
        "evaluated": ("eval", "evaluation done", "seen"),
        "in_care": ("in care", "active", "treating"),
        "discharged": ("complete", "completed", "dc'd", "dcd"),
        "not_scheduled": ("not scheduled", "never scheduled", "no show"),
        "cancelled": ("canceled", "cancel"),
    },
)

TIMEPOINTS = Vocabulary(
    "timepoint",
    {
        "intake": ("initial", "baseline", "eval", "evaluation", "ie", "admission"),
        "progress": ("re eval", "reeval", "re-evaluation", "reassessment", "interim", "pn"),
        "discharge": ("dc", "final", "d/c"),
        "follow_up": ("follow up", "followup", "fu", "post discharge"),
    },
)

CHANNELS = Vocabulary(
    "channel",
    {
        "fax": ("facsimile",),
        "email": ("e mail",),
        "mail": ("letter", "post", "postal"),
        "portal": ("ehr", "emr", "direct", "direct message"),
        "hand": ("in person", "hand delivered", "delivered"),
        "phone": ("call",),
        "other": (),
    },
)

COMMUNICATION_KINDS = Vocabulary(
    "communication kind",
    {
        "progress_update": ("progress", "progress note", "progress update", "update"),
        "discharge_summary": ("discharge", "discharge summary", "dc summary"),
        "packet": ("evidence packet",),
        "letter": (),
        "other": (),
    },
)

DISCHARGE_REASONS = Vocabulary(
    "discharge reason",
    {
        "goals_met": ("goals met", "completed", "complete", "met goals", "plan complete"),
        "self_discharged": ("self discharged", "self discharge", "self-discharged", "dropped out",
                            "no show", "stopped attending", "lost to follow up"),
        "plateau": ("plateaued", "max benefit", "maximum benefit"),
        "referred_out": ("referred out", "referred to physician", "surgery"),
        "insurance": ("benefits exhausted", "auth expired", "authorization"),
        "other": (),
    },
)


# The instrument a clinic usually gives for each body region (the default in survey entry and
# in the demo). Generic instruments (NPRS, PSFS, PROMIS-10) fit every region and are chosen by hand.
DEFAULT_INSTRUMENT_BY_REGION: dict[str, str] = {
    "low back": "odi", "neck": "ndi", "shoulder": "quickdash", "elbow": "quickdash",
    "wrist/hand": "quickdash", "hip": "hoos_jr", "knee": "koos_jr", "ankle/foot": "lefs",
}
