"""Every use of Textual's private internals, in one place.

Textual 8.2 is the tested minor (pyproject pins ``textual>=8.2,<8.3``). Each use below saves the
interface a visible stall; each has a fallback that only costs that stall, and
``tests/tui/test_internals.py`` fails loudly when an upgrade removes what it relies on, so the
pin is lifted knowingly.
"""

from __future__ import annotations

from typing import Any

from textual.app import App


def current_app() -> App[Any] | None:
    """The running app, from Textual's context variable (private ``textual._context``): the
    mode factories run without an app argument."""
    from textual._context import active_app

    return active_app.get(None)


def mark_styled(screen: Any, app: App[Any] | None) -> None:
    """Mark a new screen as styled by the current stylesheet.

    A new screen is styled when it mounts; marking it current spares Textual's two full
    re-parses of every stylesheet on a mode's first opening (``App.refresh_css``), which
    stalled the interface for ~100 ms with several screens open. Relies on the private counter
    ``_css_update_count``; without it the screen is merely restyled."""
    if app is not None and hasattr(screen, "_css_update_count") and hasattr(
            app, "_css_update_count"):
        screen._css_update_count = app._css_update_count


def read_stylesheets(app: App[Any], paths: list[str]) -> None:
    """Read screen stylesheets into the app's stylesheet up front (``Stylesheet.has_source``,
    ``read``, ``reparse`` and ``update`` are undocumented): done while only the dashboard
    exists, the restyle costs a few milliseconds instead of a stall on a screen's first
    opening."""
    added = False
    for path in paths:
        if not app.stylesheet.has_source(path, ""):
            app.stylesheet.read(path)
            added = True
    if added:
        app.stylesheet.reparse()
        app.stylesheet.update(app)


async def run_own_binding(widget: Any, event: Any) -> bool:
    """Run ``widget``'s own binding for the key ``event`` at once (``Widget._bindings`` and the
    ``_on_key`` hook are private): Textual runs a widget's bindings only after the key has
    bubbled to the app, while the next printable key goes straight into an Input, so a burst
    typed in tmux came out of order (Textual issue #6605). True when a binding ran."""
    for key in event.aliases:
        bindings = widget._bindings.key_to_bindings.get(key)
        if bindings:
            event.stop()
            event.prevent_default()
            await widget.run_action(bindings[0].action)
            return True
    return False


def prime_update_timer(screen: Any) -> None:
    """Start ``screen``'s update timer (``Screen._update_timer`` is private) while its output is
    held. Textual's timer sleeps one period (1/60 s) after its first resume before its first
    tick, and the dashboard's first frame was the first resume: 14-16 ms idle before its
    layout. Resumed at the start of the hold, it ticks once meanwhile (under the held batch a
    tick only pauses it again), and the tick that lays out and draws the first frame comes as
    soon as the hold ends. Without it the frame merely comes one period later."""
    timer = getattr(screen, "_update_timer", None)
    if timer is not None:
        timer.resume()


def footer_key_class() -> type:
    """The footer's key widget (``textual.widgets._footer.FooterKey`` is private): the survey's
    footer leaves out the screen-switching keys, which the help lists."""
    from textual.widgets._footer import FooterKey

    return FooterKey


__all__ = ["current_app", "footer_key_class", "mark_styled", "prime_update_timer",
           "read_stylesheets", "run_own_binding"]
