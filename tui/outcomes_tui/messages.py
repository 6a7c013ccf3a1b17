"""Messages posted by workers back to their screens, named in the past tense.

Workers never touch widgets: they compute in a thread and post one of these. Screens handle them
on the event loop (``on_<name>``). Each is a dataclass of the core's read models, so a handler
knows exactly what it gets.

A message is an event: compared by identity and shown by Textual's own repr, so none has the
generated ``__eq__`` and ``__repr__`` (``eq=False, repr=False``), and each has a docstring (else
the dataclass computes a signature for one). Python 3.11 compiles every generated method when
the module loads: the two cost 0.3 ms a class, 6 ms of the dashboard's start for its 20.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the dashboard's first paint must not wait for these imports
    from outcomes.importing.importer import ImportReport
    from outcomes.network.communications import CommunicationListing
    from outcomes.reports.dashboard import DashboardSummary
    from outcomes.reports.episodes import EpisodeDetail, EpisodeRow
    from outcomes.reports.partners import PartnerDetail, PartnerPage
    from outcomes.reports.rollups import Rate
    from outcomes.reports.scorecard import Scorecard


@dataclass(eq=False, repr=False)
class DashboardLoaded(Message):
    """The dashboard's numbers (this month's referrals, active partners, NPS)."""

    summary: DashboardSummary


class DashboardShown(Message):
    """The dashboard's first complete screen is up (numbers and alert queue): the app loads
    what other screens need only now, so that work never delays it."""


@dataclass(eq=False, repr=False)
class McidLoaded(Message):
    """The clinic's MCID rate for the dashboard's panel."""

    rate: Rate


@dataclass(eq=False, repr=False)
class PartnersLoaded(Message):
    """One page of the partners list; ``generation`` tells a stale read from the latest."""

    page: PartnerPage
    generation: int


@dataclass(eq=False, repr=False)
class PartnerLoaded(Message):
    """One partner's drill-down, with the display names of its codes."""

    detail: PartnerDetail
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False, repr=False)
class ScorecardLoaded(Message):
    """A partner's scorecard for the default period (``scorecard``'s result)."""

    scorecard: Scorecard | None


@dataclass(eq=False, repr=False)
class EpisodesFound(Message):
    """The episodes a search found; ``generation`` tells a stale search from the latest."""

    rows: list[EpisodeRow]
    generation: int


@dataclass(eq=False, repr=False)
class EpisodeLoaded(Message):
    """One episode's detail, with the display names of its codes."""

    detail: EpisodeDetail
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False, repr=False)
class ResponseSaved(Message):
    """A survey response was stored for ``episode_id``; ``text`` says what."""

    text: str
    episode_id: str


@dataclass(eq=False, repr=False)
class SaveFailed(Message):
    """A write was refused or failed; ``text`` says why in plain words. ``needs_confirmation``
    names the confirmation that would let it through (replace a stored response, go over the
    gift/meal limit), or is empty."""

    text: str
    needs_confirmation: str = ""


@dataclass(eq=False, repr=False)
class SpendChecked(Message):
    """The gift/meal limit checked for a touchpoint being typed (``status``: ok, near or
    over)."""

    text: str
    status: str


@dataclass(eq=False, repr=False)
class RecordSaved(Message):
    """A touchpoint, outbound referral, partner, referral or communication was written."""

    text: str
    warning: str | None = None


@dataclass(eq=False, repr=False)
class ImportPreviewed(Message):
    """A file checked without writing: its report, header and first rows."""

    report: ImportReport
    header: list[str]
    rows: list[list[str]]


@dataclass(eq=False, repr=False)
class ImportProgressed(Message):
    """Rows checked so far of an import under way."""

    done: int
    total: int


@dataclass(eq=False, repr=False)
class ImportFinished(Message):
    """An import ended (written, or refused with its row errors)."""

    report: ImportReport


@dataclass(eq=False, repr=False)
class PartnerChoicesLoaded(Message):
    """(id, name, stage) of every partner by name (``partner_choices``), for a picker."""

    choices: list[tuple[int, str, str]]


@dataclass(eq=False, repr=False)
class UnsentLoaded(Message):
    """Documents made and not yet recorded as sent (``CommunicationListing`` rows)."""

    rows: list[CommunicationListing]


@dataclass(eq=False, repr=False)
class PacketsGenerated(Message):
    """The packet files written, and a sentence for each that could not be made."""

    written: list[Path]
    failed: list[str]
