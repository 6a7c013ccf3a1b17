"""Textual's private internals that outcomes_tui/internals.py relies on. When a Textual upgrade
removes one, this fails loudly (instead of the dashboard quietly stalling), and the pin in
pyproject.toml is lifted only once it passes again."""

from __future__ import annotations

import asyncio
from typing import Any

import textual
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from outcomes_tui import internals


def test_textual_is_the_tested_minor() -> None:
    major, minor = (int(x) for x in textual.__version__.split(".")[:2])
    assert (major, minor) == (8, 2), textual.__version__


def test_the_private_pieces_are_there() -> None:
    from textual._context import active_app  # noqa: F401  (imported by current_app)

    async def main() -> None:
        app: App[None] = App()
        async with app.run_test():
            assert internals.current_app() is app
            assert hasattr(app, "_css_update_count")
            screen: Screen[None] = Screen()
            internals.mark_styled(screen, app)
            assert screen._css_update_count == app._css_update_count
            for name in ("has_source", "read", "reparse", "update"):
                assert callable(getattr(app.stylesheet, name)), name
            assert internals.footer_key_class().__name__ == "FooterKey"
            # prime_update_timer: the screen's update timer, and what its tick does under a
            # held batch (pause itself, nothing drawn).
            timer = app.screen._update_timer
            assert callable(timer.resume) and callable(timer.pause)
            with app.batch_update():
                internals.prime_update_timer(app.screen)
                assert timer._active.is_set()
                for _ in range(100):
                    await asyncio.sleep(0.01)
                    if not timer._active.is_set():
                        break
                assert not timer._active.is_set()  # ticked once and paused itself
            from textual.widgets import Input

            field = Input()
            assert hasattr(field, "_bindings") and hasattr(field._bindings, "key_to_bindings")
            assert callable(getattr(Input, "_on_key", None))

    asyncio.run(main())


def test_the_footer_rebuilds_only_when_its_keys_change() -> None:
    """KeysFooter relies on Footer.bindings_changed (Textual's handler of the screen's
    bindings signal): the same keys again do not rebuild it, a changed key does."""
    from textual.binding import Binding
    from textual.widgets import Footer

    from outcomes_tui.widgets.footer import KeysFooter

    assert callable(getattr(Footer, "bindings_changed", None))

    class Keys(App[None]):
        BINDINGS = [Binding("a", "first", "First"), Binding("b", "second", "Second")]  # noqa: RUF012
        allowed: bool | None = True

        def compose(self):  # type: ignore[no-untyped-def]
            yield KeysFooter()

        def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
            return self.allowed if action == "second" else True

    def keys(app: Keys) -> list[tuple[str, bool]]:
        from textual.widgets._footer import FooterKey

        return [(k.description, k.has_class("-disabled")) for k in app.query(FooterKey)
                if k.description != "palette"]

    async def main() -> None:
        app = Keys()
        async with app.run_test() as pilot:
            await pilot.pause()
            footer = app.query_one(KeysFooter)
            first = list(footer.children)
            assert keys(app) == [("First", False), ("Second", False)]
            app.refresh_bindings()  # the same keys: the same widgets stay
            await pilot.pause()
            assert list(footer.children) == first
            app.allowed = None  # a key disabled (None: shown, dimmed): rebuilt
            app.refresh_bindings()
            await pilot.pause()
            assert list(footer.children) != first
            assert keys(app) == [("First", False), ("Second", True)]

    asyncio.run(main())


def test_the_footer_builds_its_keys_in_its_style_without_restyling_them() -> None:
    """KeysFooter gives each key the footer's ``compact`` before it mounts (FooterKey and its
    ``compact`` reactive are private): the keys look as Textual's footer makes them (the
    palette's key compact, the others not) and none is restyled after it mounted (Textual's
    footer restyled each twice: compact, then bound to the footer's value)."""
    from textual.widgets._footer import FooterKey

    from outcomes_tui.widgets.footer import KeysFooter

    restyled: list[str] = []

    class Keys(App[None]):
        BINDINGS = [Binding("a", "first", "First"), Binding("b", "second", "Second")]  # noqa: RUF012

        def compose(self):  # type: ignore[no-untyped-def]
            yield KeysFooter()

        def update_styles(self, node: Any, animate: bool = True) -> None:
            if isinstance(node, FooterKey):
                restyled.append(node.description)
            super().update_styles(node, animate)

    async def main() -> None:
        app = Keys()
        async with app.run_test() as pilot:
            await pilot.pause()
            shown = {k.description: (k.compact, k.has_class("-compact"))
                     for k in app.query(FooterKey)}
            assert shown == {"First": (False, False), "Second": (False, False),
                             "palette": (True, True)}
            assert restyled == []

    asyncio.run(main())
