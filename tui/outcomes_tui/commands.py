"""Command palette: the actions that fit the current screen, named "group: action"."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.widget import Widget


class ScreenCommands(Provider):
    """Offers every enabled, described binding of the screen the palette was opened from.

    The group is the owner's ``COMMAND_GROUP`` (e.g. "partner"), so commands read
    "partner: log touchpoint"."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        seen: set[str] = set()
        commands = []
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.description or binding.system:
                continue
            group = getattr(active.node, "COMMAND_GROUP", "app")
            title = f"{group}: {binding.description.lower()}"
            if title in seen:
                continue
            seen.add(title)
            node = active.node
            if not isinstance(node, App | Widget):  # pragma: no cover - Screens are Widgets
                continue
            action = partial(node.run_action, binding.action)
            commands.append((title, binding.tooltip or binding.description, action))
        return sorted(commands)

    async def discover(self) -> Hits:
        for title, help_text, action in self._commands():
            yield DiscoveryHit(title, action, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), action, help=help_text)
