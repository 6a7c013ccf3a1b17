"""Completion of a name from any part of it: "Lop" offers "Dr. Maria Lopez".

Textual shows a suggestion as the faded rest of what was typed, so it must start with the typed
text. A name that starts with it is offered as usual; one that only contains it is offered as
``typed → name``, and accepting that (→ at the end of the field) leaves just the name: call
:func:`accepted` from the Input's Changed handler."""

from __future__ import annotations

from textual.suggester import Suggester

ARROW = " → "


class PartOfName(Suggester):
    def __init__(self, names: list[str]) -> None:
        super().__init__(use_cache=True, case_sensitive=False)
        self.names = names
        self.folded = [n.casefold() for n in names]

    async def get_suggestion(self, value: str) -> str | None:
        # ``value`` arrives case-folded (case_sensitive=False); the suggestion keeps the
        # user's own typing in front and the name as stored behind it.
        if not value.strip() or ARROW.strip() in value:
            return None
        for name, folded in zip(self.names, self.folded, strict=True):
            if folded.startswith(value):
                return name
        found = [name for name, folded in zip(self.names, self.folded, strict=True)
                 if value.strip() in folded]
        return f"{value}{ARROW}{found[0]}" if found else None


def accepted(text: str) -> str | None:
    """The name when ``text`` is an accepted ``typed → name`` suggestion, else None."""
    if ARROW in text:
        return text.split(ARROW, 1)[1]
    return None
