"""docs/tui.md documents every binding (id and keys); the keymap file remaps them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from outcomes_tui.keymap import KeymapError, all_bindings, load_keymap

ALIASES = {"question_mark": "?", "slash": "/", "right_square_bracket": "]",
           "left_square_bracket": "["}
DOC = Path(__file__).resolve().parents[2] / "docs" / "tui.md"


def _documented() -> dict[str, str]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[2].startswith("`") and "." in cells[2]:
            rows[cells[2].strip("`")] = cells[1]
    return rows


def test_every_binding_has_an_id_a_description_and_a_row_in_the_docs():
    documented = _documented()
    for binding in all_bindings():
        assert binding.id, f"binding {binding.key} -> {binding.action} has no id"
        assert binding.description and binding.tooltip, binding.id
        assert binding.id in documented, f"{binding.id} is not in docs/tui.md"
        for key in binding.key.split(","):
            shown = ALIASES.get(key, key)
            assert f"`{shown}`" in documented[binding.id], f"{binding.id}: {key} not documented"


def test_binding_ids_are_unique_per_owner_and_docs_list_no_stale_ids():
    ids = [b.id for b in all_bindings()]
    assert len(ids) == len(set(ids))
    assert set(_documented()) == set(ids)


def test_keymap_file_is_read_and_checked(tmp_path):
    path = tmp_path / "keymap.toml"
    path.write_text('"app.partners" = "f9"\n', encoding="utf-8")
    assert load_keymap(path) == {"app.partners": "f9"}
    path.write_text('"app.nothing" = "f9"\n', encoding="utf-8")
    with pytest.raises(KeymapError, match="not a binding id"):
        load_keymap(path)
    path.write_text("not toml [", encoding="utf-8")
    with pytest.raises(KeymapError, match="could not be read"):
        load_keymap(path)


def test_the_app_applies_the_users_keymap(app, drive, settle, isolated_dirs):
    config = isolated_dirs / "config" / "outcomes"
    config.mkdir(parents=True)
    (config / "keymap.toml").write_text('"app.partners" = "f9"\n', encoding="utf-8")

    async def body(pilot):
        await pilot.press("f9")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "PartnersScreen"

    drive(app, body)


def test_docs_mention_every_screen():
    text = DOC.read_text(encoding="utf-8")
    for name in ("Dashboard", "Partners", "Partner", "Patients", "Survey entry", "Import",
                 "Packets"):
        assert re.search(rf"\*\*{name}\*\*", text), name
