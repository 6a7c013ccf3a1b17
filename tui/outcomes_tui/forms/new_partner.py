"""Add a partner: name, kind, NPI (checked as it is typed), contact details and stage (or the
app's suggestion). Before saving, the core looks for a partner this one may duplicate: an NPI on
file is refused with the name it belongs to; a very similar name asks "add anyway?"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Input, Select, Static

from outcomes import vocab
from outcomes.errors import OutcomesError, ValidationError
from outcomes_tui.context import app_of
from outcomes_tui.forms.base import FormScreen, field
from outcomes_tui.messages import RecordSaved

SUGGEST = "auto"
"""The stage picker's value for "let the app suggest"."""


class SimilarPartner(OutcomesError):
    """A partner with a very similar name is on file; the user may add the new one anyway."""


@dataclass(eq=False, repr=False)  # an event (see outcomes_tui.messages)
class NpiLookedUp(Message):
    """Who holds a valid NPI typed in the form ("" when nobody)."""

    npi: str
    holder: str


def npi_hint(text: str) -> tuple[str, bool]:
    """The live NPI line and whether the NPI is valid: blank for no NPI, the core's reason
    when it is invalid."""
    from outcomes.npi import validate_npi

    if not text.strip():
        return "", False
    try:
        validate_npi(text)
    except ValidationError as exc:
        return str(exc), False
    return "NPI valid.", True


class NewPartnerForm(FormScreen):
    FORM_TITLE = "New partner"
    AUTO_FOCUS = "#np-name"
    COMMAND_GROUP = "partner"
    CONFIRM_QUESTION = "Add the new partner anyway?"
    DEFAULT_CSS = """
    NewPartnerForm #np-npi-check { color: $text-muted; height: auto; }
    NewPartnerForm #np-npi-check.-invalid { color: $text-error; }
    """

    def fields(self) -> ComposeResult:
        yield from field("Name", Input(id="np-name"))
        yield from field("Kind", Select([(k, k) for k in vocab.PARTNER_KINDS.values],
                                        prompt="choose a kind", type_to_search=True,
                                        id="np-kind"))
        yield from field("NPI (10 digits, optional)", Input(id="np-npi", max_length=20))
        yield Static("", id="np-npi-check", markup=False)
        yield from field("Organisation", Input(id="np-organization"))
        yield from field("Phone", Input(id="np-phone"))
        yield from field("Fax", Input(id="np-fax"))
        yield from field("Email", Input(id="np-email"))
        yield from field("Stage", Select([("let the app suggest", SUGGEST)]
                                         + [(s, s) for s in vocab.STAGES.values],
                                         value=SUGGEST, allow_blank=False, id="np-stage"))


    @on(Input.Changed, "#np-npi")
    def npi_changed(self, event: Input.Changed) -> None:
        hint, valid = npi_hint(event.value)
        check = self.query_one("#np-npi-check", Static)
        check.update(hint)
        check.set_class(bool(hint) and not valid, "-invalid")
        if valid:
            self.look_up_npi(event.value.strip())

    @work(thread=True, exclusive=True, group="npi-check", exit_on_error=False)
    def look_up_npi(self, npi: str) -> None:
        from outcomes.network.partners import partner_clashes

        clashes = [c for c in partner_clashes(app_of(self).db(), "", npi) if c.reason == "npi"]
        holder = f"{clashes[0].name} (partner id {clashes[0].partner_id})" if clashes else ""
        self.post_message(NpiLookedUp(npi, holder))

    def on_npi_looked_up(self, message: NpiLookedUp) -> None:
        message.stop()
        if message.npi != self.value("#np-npi") or not message.holder:
            return  # typed on since, or nobody holds it
        check = self.query_one("#np-npi-check", Static)
        check.update(f"NPI valid, but already on file for {message.holder}.")
        check.set_class(True, "-invalid")

    def prepare(self) -> Any:
        kind = self.query_one("#np-kind", Select).value
        stage = self.choice("#np-stage")
        return {
            "name": self.value("#np-name"),
            "kind": None if kind is Select.NULL else str(kind),
            "npi": self.value("#np-npi"),
            "organization": self.value("#np-organization"),
            "phone": self.value("#np-phone"), "fax": self.value("#np-fax"),
            "email": self.value("#np-email"),
            "stage": None if stage == SUGGEST else stage,
        }

    def needs_confirmation(self, exc: OutcomesError) -> bool:
        return isinstance(exc, SimilarPartner)

    def write(self, db: Any, job: Any, confirmed: bool) -> RecordSaved:
        from outcomes.models import Partner, validate
        from outcomes.network.partners import add_partner, get_partner, partner_clashes

        # Validated first, so a bad NPI or email is named before any duplicate talk.
        partner = validate(Partner, {k: v for k, v in job.items() if v})
        clashes = partner_clashes(db, partner.name, partner.npi)
        held = [c for c in clashes if c.reason == "npi"]
        if held:
            raise ValidationError(held[0].message(partner.name))
        if clashes and not confirmed:
            raise SimilarPartner(" ".join(c.message(partner.name) for c in clashes))
        saved = add_partner(db, partner)
        stage = get_partner(db, saved.id)["stage"]
        how = "your choice" if job["stage"] else "suggested"
        return RecordSaved(f"Added partner {partner.name} (stage {stage}, {how}).")
