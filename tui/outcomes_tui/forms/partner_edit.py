"""Change a partner's contact details, stage and notes."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from outcomes import vocab
from outcomes_tui.forms.base import FormScreen, field
from outcomes_tui.messages import RecordSaved

EDITABLE = ("phone", "fax", "email", "address", "city", "state", "zip", "notes")


class PartnerEditForm(FormScreen):
    FORM_TITLE = "Edit partner"
    COMMAND_GROUP = "partner"

    def __init__(self, partner: dict[str, Any]) -> None:
        super().__init__()
        self.partner = partner

    def fields(self) -> ComposeResult:
        yield Label(self.partner["name"], markup=False)
        yield from field("Stage", Select([(s, s) for s in vocab.STAGES.values],
                                         value=self.partner["stage"], allow_blank=False,
                                         id="edit-stage"))
        for name in EDITABLE:
            yield from field(name.capitalize(), Input(self.partner.get(name) or "",
                                                      id=f"edit-{name}"))

    def prepare(self) -> Any:
        # A blank field clears the value on file.
        changes: dict[str, Any] = {name: self.value(f"#edit-{name}") or None for name in EDITABLE}
        stage = self.choice("#edit-stage")
        if stage != self.partner["stage"]:
            changes["stage"] = stage
        return changes

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        from outcomes.network.partners import change_partner

        changed = change_partner(db, int(self.partner["id"]), job, today=self.today)
        if not changed:
            return RecordSaved("Nothing changed.")
        return RecordSaved(f"Updated {', '.join(sorted(changed))} of {self.partner['name']}.")
