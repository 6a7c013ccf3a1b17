"""User key remapping: ``keymap.toml`` in the config folder, applied with ``App.set_keymap``.

The file maps binding ids to keys (several keys separated by commas)::

    # ~/.config/outcomes/keymap.toml
    "app.partners" = "f3"
    "survey.skip" = "minus,space,x"

Every binding id is listed in docs/tui.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from textual.binding import Binding, BindingType

from outcomes.paths import config_dir

KEYMAP_FILE = "keymap.toml"


class KeymapError(Exception):
    """The keymap file cannot be used; the message says why, in plain words."""


def keymap_path() -> Path:
    return config_dir() / KEYMAP_FILE


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """Binding id -> keys from the keymap file; empty when there is no file."""
    path = path or keymap_path()
    if not path.exists():
        return {}
    import tomllib  # only with a keymap file: most starts have none

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KeymapError(f"{path} could not be read ({exc}); default keys are used.") from exc
    table = data.get("keys", data)
    known = {b.id for b in all_bindings() if b.id}
    keymap: dict[str, str] = {}
    for binding_id, keys in table.items():
        if not isinstance(keys, str) or not keys.strip():
            raise KeymapError(f"{path}: {binding_id} must be a key name such as \"f3\".")
        if binding_id not in known:
            raise KeymapError(
                f"{path}: {binding_id!r} is not a binding id; see docs/tui.md for the list."
            )
        keymap[binding_id] = keys.strip()
    return keymap


def _bindings_of(items: list[BindingType]) -> Iterator[Binding]:
    for item in items:
        if isinstance(item, Binding):
            yield item


def binding_owners() -> list[type]:
    """Every class of ours that declares BINDINGS (the app, screens, forms, widgets)."""
    import importlib

    from outcomes_tui.app import OutcomesApp
    from outcomes_tui.registry import FORM_MODULES, screen_modules

    modules = [importlib.import_module(f"outcomes_tui.screens.{m}") for m in screen_modules()]
    modules += [importlib.import_module(f"outcomes_tui.forms.{m}") for m in FORM_MODULES]
    modules.append(importlib.import_module("outcomes_tui.widgets.survey_items"))
    modules.append(importlib.import_module("outcomes_tui.guard"))
    owners: list[type] = [OutcomesApp]
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__ and (
                "BINDINGS" in vars(value)
            ):
                owners.append(value)
    return owners


def all_bindings() -> list[Binding]:
    """Every Binding we declare (for docs, the keymap check and the help test)."""
    found: list[Binding] = []
    for owner in binding_owners():
        found.extend(_bindings_of(list(vars(owner)["BINDINGS"])))
    return found
