"""Messages posted by workers back to their screens, named in the past tense.

Workers never touch widgets: they compute in a thread and post one of these. Screens handle them
on the event loop (``on_<name>``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message


class DashboardLoaded(Message):
    def __init__(self, summary: Any) -> None:
        super().__init__()
        self.summary = summary


class McidLoaded(Message):
    def __init__(self, rate: Any) -> None:
        super().__init__()
        self.rate = rate


class AlertsLoaded(Message):
    def __init__(self, alerts: list[Any], available: bool = True) -> None:
        super().__init__()
        self.alerts = alerts
        self.available = available


class PartnersLoaded(Message):
    def __init__(self, page: Any, generation: int) -> None:
        super().__init__()
        self.page = page
        self.generation = generation


class PartnerLoaded(Message):
    def __init__(self, detail: Any, scorecard: dict[str, Any] | None,
                 labels: dict[str, str] | None = None) -> None:
        super().__init__()
        self.detail = detail
        self.scorecard = scorecard
        self.labels = labels or {}


class ScorecardLoaded(Message):
    def __init__(self, scorecard: dict[str, Any] | None) -> None:
        super().__init__()
        self.scorecard = scorecard


class LetterMade(Message):
    def __init__(self, path: Path, episode_id: str) -> None:
        super().__init__()
        self.path = path
        self.episode_id = episode_id


class EpisodesFound(Message):
    def __init__(self, rows: list[Any], generation: int) -> None:
        super().__init__()
        self.rows = rows
        self.generation = generation


class EpisodeLoaded(Message):
    def __init__(self, detail: Any, labels: dict[str, str] | None = None) -> None:
        super().__init__()
        self.detail = detail
        self.labels = labels or {}


class ResponseSaved(Message):
    def __init__(self, text: str, episode_id: str) -> None:
        super().__init__()
        self.text = text
        self.episode_id = episode_id


class SpendChecked(Message):
    def __init__(self, text: str, status: str) -> None:
        super().__init__()
        self.text = text
        self.status = status


class RecordSaved(Message):
    """A touchpoint, outbound referral, partner edit or communication was written."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ImportPreviewed(Message):
    def __init__(self, report: Any, header: list[str], rows: list[list[str]]) -> None:
        super().__init__()
        self.report = report
        self.header = header
        self.rows = rows


class ImportProgressed(Message):
    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


class ImportFinished(Message):
    def __init__(self, report: Any) -> None:
        super().__init__()
        self.report = report


class PartnerChoicesLoaded(Message):
    def __init__(self, choices: list[tuple[int, str, str]]) -> None:
        super().__init__()
        self.choices = choices


class PacketsGenerated(Message):
    def __init__(self, written: list[Path], failed: list[str]) -> None:
        super().__init__()
        self.written = written
        self.failed = failed
