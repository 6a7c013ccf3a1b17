"""The dashboard's screens, defined once: the app's modes, their keys, the help, the keymap
check, the warm-up and the style registration all read this list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScreenEntry:
    """A top-level screen: its mode, module and class, keys, title and tooltip."""

    mode: str
    """The app mode (``switch_mode``) and the binding id suffix (``app.<mode>``)."""
    module: str
    """Module under ``outcomes_tui.screens``."""
    cls: str
    keys: str
    title: str
    tooltip: str
    show: bool = True
    """Shown in the footer (every key is also in the help and the command palette)."""


MODES: tuple[ScreenEntry, ...] = (
    ScreenEntry("dashboard", "dashboard", "DashboardScreen", "d,f2", "Dashboard",
                "Open the dashboard (home)"),
    ScreenEntry("partners", "partners", "PartnersScreen", "p,f3", "Partners",
                "Open the partner table"),
    ScreenEntry("episodes", "episodes", "EpisodesScreen", "e,f4", "Patients",
                "Find a patient's episode of care"),
    ScreenEntry("import", "import_screen", "ImportScreen", "i,f6", "Import",
                "Import a CSV file", show=False),
    ScreenEntry("packets", "packets", "PacketsScreen", "k,f7", "Packets",
                "Generate evidence packets for partners", show=False),
)
"""The top-level screens, each a mode of the app."""

PUSHED: tuple[tuple[str, str], ...] = (
    ("partner_detail", "PartnerDetailScreen"),
    ("survey_entry", "SurveyEntryScreen"),
    ("help", "HelpScreen"),
)
"""Screens pushed over a mode (module, class)."""

FORM_MODULES: tuple[str, ...] = (
    "base", "confirm", "touchpoint", "outbound", "communication", "partner_edit", "letter",
    "new_partner", "new_referral", "referral_status",
    "clinical_notes", "mark_sent", "outbound_status", "amend",
)
"""Modules under ``outcomes_tui.forms``, one modal form each (``base`` and ``confirm`` are
shared)."""


def screen_modules() -> list[str]:
    """Every screen module, for the warm-up, the keymap check and style registration."""
    return [m.module for m in MODES] + [module for module, _ in PUSHED]
