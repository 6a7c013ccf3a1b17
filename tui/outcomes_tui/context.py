"""The typed way from any widget or screen to the running app (instead of ``app: Any``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.dom import DOMNode

if TYPE_CHECKING:
    from outcomes_tui.app import OutcomesApp


def app_of(node: DOMNode) -> OutcomesApp:
    """The OutcomesApp that ``node`` belongs to."""
    from outcomes_tui.app import OutcomesApp

    app = node.app
    if not isinstance(app, OutcomesApp):  # pragma: no cover - only inside our app
        raise TypeError(f"{node!r} is not part of the outcomes dashboard")
    return app
