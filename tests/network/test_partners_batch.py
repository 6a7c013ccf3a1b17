"""save_partners (the import's batched save) against save_partner one record at a time."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outcomes.models import Partner, validate
from outcomes.network.partners import save_partner, save_partners
from outcomes.npi import npi_check_digit
from outcomes.store.database import open_db, transaction

STAMPS = {"created_at", "updated_at"}


def _npi(first_nine: str) -> str:
    return f"{first_nine}{npi_check_digit(first_nine)}"


NPIS = [_npi(f"1{n:08d}") for n in range(4)]
# ASCII case (one partner to NOCASE), and non-ASCII case (two partners to NOCASE).
NAMES = ["Dr. Ann Lee", "DR. ANN LEE", "Émile Roy", "émile roy", "Bo Chen"]


def _partner(fields: dict[str, Any]) -> Partner:
    return validate(Partner, {k: v for k, v in fields.items() if v is not None})


records = st.fixed_dictionaries({
    "name": st.sampled_from(NAMES),
    "kind": st.sampled_from(["primary care", "attorney", "podiatrist"]),
    "npi": st.sampled_from([None, *NPIS]),
    "phone": st.sampled_from([None, "5035550100", "5035550199"]),
    "city": st.sampled_from([None, "Portland"]),
    "stage": st.sampled_from([None, "prospect", "outreach"]),
    "tags": st.sampled_from([[], ["spine"]]),
}).map(_partner)


def _stored(path: Path) -> list[tuple[Any, ...]]:
    db = open_db(path)
    try:
        cursor = db.execute("SELECT * FROM partners ORDER BY id")
        names = [d[0] for d in cursor.description]
        return [tuple(v for n, v in zip(names, row, strict=True) if n not in STAMPS)
                for row in cursor]
    finally:
        db.close()


def _distinct(partners: list[Partner]) -> list[Partner]:
    """One record per natural key, as an import hands them (repeats are refused before)."""
    seen: dict[Any, Partner] = {}
    for p in partners:
        seen.setdefault(("npi", p.npi) if p.npi else ("name", p.name.casefold()), p)
    return list(seen.values())


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(on_file=st.lists(records, max_size=5), batch=st.lists(records, max_size=8),
       distinct=st.booleans())
def test_a_batch_saves_what_one_by_one_saves(db_path: Path, on_file: list[Partner],
                                             batch: list[Partner], distinct: bool) -> None:
    if distinct:
        batch = _distinct(batch)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.db"
        db = open_db(base)
        with transaction(db):
            for p in _distinct(on_file):
                save_partner(db, p)
        db.close()
        results = {}
        for how in ("one", "batch"):
            path = Path(tmp) / f"{how}.db"
            shutil.copy(base, path)
            db = open_db(path)
            try:
                with transaction(db):
                    if how == "one":
                        outcomes = [save_partner(db, p).outcome for p in batch]
                    else:
                        outcomes = save_partners(db, batch)
            finally:
                db.close()
            results[how] = (outcomes, _stored(path))
        assert results["batch"] == results["one"]


def test_new_partners_are_added_in_order_with_the_stage_rules(db: Any) -> None:
    batch = [_partner({"name": "A", "kind": "primary care", "npi": NPIS[0]}),
             _partner({"name": "B", "kind": "attorney", "stage": "outreach"})]
    with transaction(db):
        assert save_partners(db, batch) == ["added", "added"]
        # The same records again change nothing; a new phone is an update (save_partner's
        # rule: a field given and different, the name too).
        assert save_partners(db, batch) == ["unchanged", "unchanged"]
        changed = _partner({"name": "b", "kind": "attorney", "phone": "5035550100"})
        assert save_partners(db, [changed]) == ["updated"]
    rows = [tuple(r) for r in db.execute(
        "SELECT name, npi, stage, stage_source, phone FROM partners ORDER BY id")]
    assert rows == [("A", NPIS[0], "prospect", "suggested", None),
                    ("b", None, "outreach", "user", "5035550100")]  # the name as last given
