"""Messages posted by workers back to their screens, named in the past tense.

Workers never touch widgets: they compute in a thread and post one of these. Screens handle them
on the event loop (``on_<name>``). Each is a dataclass of the core's read models, so a handler
knows exactly what it gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the dashboard's first paint must not wait for these imports
    from outcomes.importing.importer import ImportReport
    from outcomes.network.alerts import Alert
    from outcomes.network.communications import CommunicationListing
    from outcomes.reports.dashboard import DashboardSummary
    from outcomes.reports.episodes import EpisodeDetail, EpisodeRow
    from outcomes.reports.partners import PartnerDetail, PartnerPage
    from outcomes.reports.rollups import Rate
    from outcomes.reports.scorecard import Scorecard


@dataclass
class DashboardLoaded(Message):
    summary: DashboardSummary


class DashboardShown(Message):
    """The dashboard's first complete screen is up (numbers and alert queue): the app loads
    what other screens need only now, so that work never delays it."""


@dataclass
class McidLoaded(Message):
    rate: Rate


@dataclass
class AlertsLoaded(Message):
    alerts: list[Alert]
    available: bool = True


@dataclass
class PartnersLoaded(Message):
    page: PartnerPage
    generation: int


@dataclass
class PartnerLoaded(Message):
    detail: PartnerDetail
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class ScorecardLoaded(Message):
    scorecard: Scorecard | None


@dataclass
class EpisodesFound(Message):
    rows: list[EpisodeRow]
    generation: int


@dataclass
class EpisodeLoaded(Message):
    detail: EpisodeDetail
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class ResponseSaved(Message):
    text: str
    episode_id: str


@dataclass
class SaveFailed(Message):
    """A write was refused or failed; ``text`` says why in plain words. ``needs_confirmation``
    names the confirmation that would let it through (replace a stored response, go over the
    gift/meal limit), or is empty."""

    text: str
    needs_confirmation: str = ""


@dataclass
class SpendChecked(Message):
    text: str
    status: str


@dataclass
class RecordSaved(Message):
    """A touchpoint, outbound referral, partner, referral or communication was written."""

    text: str
    warning: str | None = None


@dataclass
class ImportPreviewed(Message):
    report: ImportReport
    header: list[str]
    rows: list[list[str]]


@dataclass
class ImportProgressed(Message):
    done: int
    total: int


@dataclass
class ImportFinished(Message):
    report: ImportReport


@dataclass
class PartnerChoicesLoaded(Message):
    choices: list[tuple[int, str, str]]


@dataclass
class UnsentLoaded(Message):
    """Documents made and not yet recorded as sent (``CommunicationListing`` rows)."""

    rows: list[CommunicationListing]


@dataclass
class PacketsGenerated(Message):
    written: list[Path]
    failed: list[str]
