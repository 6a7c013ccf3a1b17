"""Each new form fits a 100x30 terminal: the box stays on screen and every field can be
reached with Tab, scrolled into view."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Select

from outcomes_tui.forms.new_partner import NewPartnerForm
from outcomes_tui.forms.new_referral import NewReferralForm
from outcomes_tui.forms.referral_status import ReferralStatusForm

EPISODE = {"id": "E00001", "status": "scheduled", "first_visit_date": None}


@pytest.mark.parametrize("make", [
    NewPartnerForm, NewReferralForm, lambda: NewReferralForm((1, "Dr. Margaret Hale")),
    lambda: ReferralStatusForm(dict(EPISODE), "Ada Quill"),
])
def test_every_field_is_reachable_and_visible_at_100x30(app, drive, settle, make):
    async def body(pilot):
        form = make()
        pilot.app.push_screen(form)
        await settle(pilot)
        if isinstance(form, ReferralStatusForm):
            form.query_one("#rs-move", Select).value = "discharged"  # the tallest move
            await settle(pilot)
        box = form.query_one(VerticalScroll)
        assert box.region.height <= 30 and box.region.width <= 100
        screen_region = form.region
        fields = [w for w in form.query("Input, Select") if w.display]
        visited = []
        for _ in range(len(fields) + 3):
            await pilot.press("tab")
            await settle(pilot)
            widget = pilot.app.focused
            if widget not in fields:
                continue
            visited.append(widget)
            # on screen: scrolled into the box's visible area
            assert widget.region.height > 0, widget.id
            assert box.region.contains_region(widget.region), widget.id
            assert screen_region.contains_region(widget.region), widget.id
        assert set(visited) == set(fields)

    drive(app, body)
