"""The footer of every screen: Textual's, rebuilt only when the keys it shows change.

Textual's ``Footer`` recomposes itself (a new ``FooterKey`` widget per key, each styled) on
every ``bindings_updated_signal`` of its screen: each focus change, each ``refresh_bindings``.
The dashboard's start sent about ten of them, each rebuilding the same nine keys (about 0.09 s
of the main thread under a profiler before the first screen was complete). This footer
rebuilds only when what it would show differs: the keys, their words, whether each is
enabled, their tooltips, and the command palette's key.

Each key it builds starts in the footer's own style. Textual creates every ``FooterKey``
compact and then binds it to the footer's ``compact`` (False): the class "-compact" added, then
removed, two restyles of each key at each rebuild (about 20 ms of the dashboard's first screen
on the demo clinic, interleaved runs). Given the footer's value before it mounts
(``set_reactive``, which calls no watcher), a key is styled once, when it mounts.

Relies on ``Footer.bindings_changed`` (Textual 8.2's handler of the signal, undocumented) and
on ``FooterKey`` (private; ``outcomes_tui.internals.footer_key_class``);
``tests/tui/test_internals.py`` fails when an upgrade renames them, and the pin in
``pyproject.toml`` (``textual>=8.2,<8.3``) is lifted knowingly.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from outcomes_tui.internals import footer_key_class


class KeysFooter(Footer):
    """``Footer`` that skips a rebuild showing the same keys as the last one, and builds keys
    already in its style."""

    DEFAULT_CSS = ""
    _shown: tuple[Any, ...] | None = None

    def compose(self) -> ComposeResult:
        key_class: Any = footer_key_class()
        for widget in super().compose():
            if isinstance(widget, key_class):
                # Textual binds every key but the command palette's to the footer's style;
                # that one keeps FooterKey's default, compact (read, the value would run the
                # watcher at once).
                if widget.has_class("-command-palette"):
                    compact = True
                else:
                    compact = self.compact
                    widget.set_reactive(key_class.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            shown = _shown_keys(screen, self.show_command_palette)
            if shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)


def _shown_keys(screen: Screen[Any], palette: bool) -> tuple[Any, ...]:
    """What the footer would show for ``screen``: each shown binding's key, words, action,
    group, whether it is enabled and its tooltip, in order."""
    return (palette, *((binding.key, binding.key_display, binding.description, binding.action,
                        binding.group, enabled, tooltip)
                       for _node, binding, enabled, tooltip in screen.active_bindings.values()
                       if binding.show))
