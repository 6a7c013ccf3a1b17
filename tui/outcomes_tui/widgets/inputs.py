"""An Input whose editing keys act in the order they were typed.

Textual runs a widget's own bindings only once the key has bubbled up to the app (Textual issue
#6605). Meanwhile the next printable key goes straight into the Input, and a priority binding
(the forms' tab) acts at once. Typed fast (tmux delivers a burst at once), that reorders keys:
in the patient search "E0060", backspace, backspace, "01" became "E0060" instead of "E0001",
and in the new-referral form → then tab moved to the next field before → could accept the
partner's completion, so the field kept "Lop" instead of "Dr. Maria Lopez". Running the
Input's own editing bindings inline, as Textual's proposed fix does, keeps the order
(``outcomes_tui.internals.run_own_binding``).
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from outcomes_tui.internals import run_own_binding


class OrderedInput(Input):
    """``Input`` whose editing keys (backspace, delete, arrows, home, end) run inline."""

    EDITING_KEYS = frozenset({"backspace", "delete", "left", "right", "home", "end"})
    """Only the editing keys run inline; every other key (down, escape...) travels as usual,
    so the screen's own bindings (down: into the results) still apply."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key in self.EDITING_KEYS and await run_own_binding(self, event):
            return
        await super()._on_key(event)
