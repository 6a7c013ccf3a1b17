"""The bulk engine and the row-by-row reference agree: the same generated files, good and bad,
give identical stored rows and identical error reports (file, line, column, message)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outcomes.errors import OutcomesError
from outcomes.importing import bulk
from outcomes.importing.importer import ImportFailed, run_import
from outcomes.importing.kinds import KINDS, Prepared
from outcomes.store.database import open_db
from tests.conftest import DEMO_TODAY

TABLES = ("partners", "patients", "episodes", "responses", "episode_outcomes", "nps_responses",
          "touchpoints", "outbound_referrals", "roll_episodes", "roll_visits", "roll_days",
          "roll_outcomes", "roll_nps", "roll_funnel", "roll_unscheduled")
STAMPS = {"created_at", "updated_at"}  # the clock, not the data

DATES = ["2026-01-05", "01/10/2026", "1/2/2026", "2026/03/04", "Mar 4 2025", "4 March 2025",
         "2026-13-01", "13/01/2026", "02/30/2026", "2030-01-01", "26-01-05", " 2026-02-03 ",
         "2026-1-5", "\u0662\u0660\u0662\u0666-01-05", "2026-11-22", "2026-11-23", "",
         "2025-06-31", "2019-12-31"]
TEXT = ["", "PT A", " spaced ", "'=1+1", "=HYPERLINK(1)", "x" * 50, "Ünïcødé", "a\nb", "'plain"]


def _values(demo: dict[str, list[str]]) -> dict[str, st.SearchStrategy[str]]:
    """Cells per column name: mostly plausible, some wrong in each way the rules know."""
    pick = st.sampled_from
    npis = demo["npis"] + ["", "1234567890", "123", "not-an-npi"]
    names = demo["names"] + ["", "Nobody Known", "dr nobody"]
    episodes = demo["episodes"] + ["", "E-NEW-1", "E-NEW-2", "E-NEW-3", " E-NEW-1 "]
    answers = ["3;3;2;2;3;2;2;3;2;2", "0;0;0;0;0;0;0;0;0;0", "5;5;5;5;5;5;5;5;5;5",
               "3;3;2;2;3;2;2;3;2", "3;3;2;2;3;-;2;3;2;2", "3;3;2;2;3;;2;3;2;2",
               "7;3;2;2;3;2;2;3;2;2", "03;3;2;2;3;2;2;3;2;2", " 3;3;2;2;3;2;2;3;2;2",
               "4", "11", "10", "2;2;2;2;2;2;2;2;2;2;2;2;2;2;2;2;2;2;2;2", "x;1", "9" * 60, ""]
    return {
        "episode_id": pick(episodes), "episode": pick(episodes),
        "patient_id": pick(["MRN-A", "MRN-B", " MRN-C ", "", "MRN-D"]),
        "partner_npi": pick(npis), "partner": pick(names),
        "referral_date": pick(DATES), "first_visit_date": pick(DATES),
        "discharge_date": pick(DATES), "scheduled_date": pick(DATES),
        "onset_date": pick(DATES), "birth_date": pick(DATES), "date": pick(DATES),
        "next_follow_up": pick(DATES),
        "body_region": pick(["knee", "Lumbar", "LOW BACK", "neck ", "elbow", "toe", ""]),
        "diagnosis": pick(["M54.50", "m5450", "M17.11", "S83511A", "U07.1", "bad", ""]),
        "visits": pick(["", "0", "8", "1000", "1001", "12.5", "-1", "\u00b2", "9" * 5000,
                        "\u0663"]),
        "discharge_reason": pick(["", "goals met", "plateau", "bored"]),
        "status": pick(["", "discharged", "cancelled", "in care", "nonsense", "met",
                        "partly met", "open"]),
        "goal": pick(["", "Walk 2 km without pain", "Sit 60 min", " Sit 60 min ", "x" * 2001]),
        "target_date": pick(DATES),
        "status_reason": pick(["", "moved away"]),
        "instrument": pick(["odi", "ODI", "nprs", "lefs", "nosuch", "", "psfs", "nps"]),
        # Condition columns: names, synonyms in any case, unknown words, a contradiction.
        "procedure": pick(["", "TKA", "total knee arthroplasty", "acl", "Spinal fusion",
                           "knee thing", " tha "]),
        "surgical": pick(["", "yes", "No", "TRUE", "0", "maybe", " y "]),
        "timepoint": pick(["intake", "Initial", "dc", "progress", "later", ""]),
        "answers": pick(answers),
        "score": pick(["", "42", "42.5", "101", "-3", "nan", "abc", "9" * 400]),
        "sex": pick(["", "F", "M"]),
        "method": pick(["phone", "Lunch & Learn", "visit", "smoke signal", ""]),
        "amount": pick(["", "25", "$1,200.50", "100001", "-5", "abc", "1e3"]),
        "reason": pick(["", "needs imaging", "'=cmd"]),
        "comment": pick(TEXT + FREE_EDGES),
        "summary": pick(TEXT + FREE_EDGES), "who": pick([*TEXT, "w" * 200, "w" * 201]),
        "clinician": pick(TEXT),
        **PARTNER_VALUES,
        # Partners on file too: their rows are updates (save_partner's own path).
        "npi": pick([*demo["npis"][:2], "", "1234567893", " 1987654328 ", "1234567890"]),
        "name": pick([*demo["names"][:2], "Dr. A", " Dr. B ", "", "x" * 201, "a\tb", "'=cmd"]),
        "clinic": pick(TEXT), "chief_complaint": pick(TEXT), "patient_name": pick(TEXT),
        **CLINICAL_VALUES,
    }


# Free text at and over NOTE_MAX (5,000 characters, counted after trimming), a character that
# is allowed but not printable, a bidi control.
FREE_EDGES = ["n" * 5000, " " + "n" * 5000 + " ", "n" * 5001, "\u00a0nbsp", "\u202eevil"]
# The partner columns (the compiled partner validator), good and bad; the NPIs pass their check
# digit but are not on file (the demo's are added by the test).
PARTNER_VALUES = {name: st.sampled_from(cells) for name, cells in {
    "name": ["Dr. A", " Dr. B ", "", "x" * 200, "x" * 201, "dr a", "a\tb", "'=cmd"],
    "npi": ["", "1234567893", " 1987654328 ", "1234567890", "123"],
    "kind": ["pcp", "Orthopedics", " chiro ", "nonsense", ""],
    "organization": ["", "Clinic", "w" * 200, "w" * 201],
    "phone": ["", "503-555-0100", "5" * 41], "fax": ["", "5035550199"],
    "email": ["", "a@b.org", " x@y.com ", "bad"],
    "address": ["", "1 Main St", "a" * 301], "city": ["", "Portland", "c" * 101],
    "state": ["", "OR", "or", "Oregon"], "zip": ["", "97201", "97201-1234", "9720"],
    "stage": ["", "prospect", "lead", "bogus"],
    "preferred_contact": ["", "fax", "E-mail", "pigeon"],
    "tags": ["", "a;b", " a ; ;b ", ";".join(["t"] * 51), "t" * 51],
    "notes": ["", "ok", "n" * 5000, "n" * 5001, "a\nb"],
}.items()}

# The clinical content columns of referrals, good and bad: over each length cap, control
# characters in the one-line fields, dates out of each field's range, how a plan was certified
# in words the rule knows and not.
LONG = ["y" * 2000, "y" * 2001, "z" * 5000, "z" * 5001]
CLINICAL_VALUES = {
    **{name: st.sampled_from(TEXT + LONG) for name in (
        "history", "findings", "treatment", "plan", "plan_interventions", "referral_question",
        "precautions")},
    **{name: st.sampled_from(["", "2x/week", "6 weeks", " 3 visits ", "a\tb", "w" * 200,
                              "w" * 201, "=1+1"]) for name in ("plan_frequency", "plan_duration")},
    "physician_follow_up": st.sampled_from([*DATES, "2031-11-20", "2031-12-31"]),
    "poc_sent_date": st.sampled_from(DATES), "poc_certified_date": st.sampled_from(DATES),
    "poc_certified_by": st.sampled_from(["", "signed", "Order on file", "order_on_file", "faxed",
                                         "SIGNED ", "order"]),
}


@pytest.fixture(scope="module")
def demo_facts(demo_template: Path) -> dict[str, list[str]]:
    db = open_db(demo_template)
    try:
        npis = [r[0] for r in db.execute(
            "SELECT npi FROM partners WHERE npi IS NOT NULL ORDER BY id LIMIT 4")]
        names = [r[0] for r in db.execute("SELECT name FROM partners ORDER BY id LIMIT 3")]
        episodes = [r[0] for r in db.execute("SELECT id FROM episodes ORDER BY id LIMIT 4")]
    finally:
        db.close()
    return {"npis": npis, "names": names, "episodes": episodes}


def stored(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    db = open_db(path)
    try:
        out = {}
        for table in TABLES:
            cursor = db.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            out[table] = sorted((tuple(v for n, v in zip(names, row, strict=True)
                                       if n not in STAMPS) for row in cursor), key=repr)
        return out
    finally:
        db.close()


def outcome(path: Path, kind: str, csv_path: Path, engine: str, skip: bool) -> Any:
    db = open_db(path)
    try:
        report = run_import(db, kind, csv_path, today=DEMO_TODAY, skip_invalid=skip,
                            rejects_path=csv_path.with_suffix(f".{engine}.rejects.csv"),
                            engine=engine)
    except ImportFailed as exc:
        report = exc.report
        result: Any = ("failed", str(exc))
    except OutcomesError as exc:  # the file as a whole (encoding, header): no report
        db.close()
        return ("refused", str(exc)), [], None, None
    else:
        result = ("written", report.summary().replace(f".{engine}.", "."))
    finally:
        db.close()
    rejects = None
    if report.rejects_file:
        rejects = Path(report.rejects_file).read_text(encoding="utf-8")
    return result, [(e.file, e.line, e.column, e.message) for e in report.errors], \
        (report.added, report.updated, report.unchanged), rejects


# More examples on demand: IMPORT_DIFF_EXAMPLES=1000 pytest tests/importing/test_bulk_differential.py
DIFF = settings(max_examples=int(os.environ.get("IMPORT_DIFF_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@DIFF
@given(data=st.data(), kind=st.sampled_from(["referrals", "responses", "nps", "touchpoints",
                                             "outbound", "partners", "goals"]),
       skip=st.booleans(), chunk=st.sampled_from([1, 3, 5_000]),
       in_memory=st.sampled_from([0, 2, 20_000]), hashed=st.booleans())
def test_bulk_and_rows_agree(demo_template: Path, demo_facts: dict[str, list[str]],
                             data: st.DataObject, kind: str, skip: bool, chunk: int,
                             in_memory: int, hashed: bool) -> None:
    values = _values(demo_facts)
    columns = [c.name for c in KINDS[kind].columns]
    header = data.draw(st.lists(st.sampled_from(columns), min_size=1, unique=True)
                       if kind == "partners" else st.permutations(columns), label="header")
    if kind == "partners":
        header = list(dict.fromkeys(["name", "kind", *header]))
    text = st.text(max_size=12)
    row = st.tuples(*[values.get(col, text) for col in header]).map(list)
    rows = data.draw(st.lists(row, max_size=8), label="rows")
    # Some rows repeated (duplicate keys), some short or long.
    if rows and data.draw(st.booleans(), label="repeat"):
        rows.append(list(rows[0]))
    if rows and data.draw(st.booleans(), label="ragged"):
        rows.append(rows[-1][:-1] if len(rows[-1]) > 1 else rows[-1] + ["extra"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "file.csv"
        source.write_text(out.getvalue(), encoding="utf-8")
        results = {}
        for engine in ("rows", "bulk"):
            target = folder / f"{engine}.db"
            shutil.copy(demo_template, target)
            old, old_keys = bulk.CHUNK, bulk.KeyStore.IN_MEMORY
            old_hashed = bulk.KeyStore.HASHED_LINES
            bulk.CHUNK = chunk  # chunk edges inside the file, too
            # Keys held in memory, moved to the key database before, inside or after the file;
            # or (past the dict) only their hashes until one repeats, then replayed.
            bulk.KeyStore.IN_MEMORY = in_memory
            bulk.KeyStore.HASHED_LINES = 10**9 if hashed else 0
            try:
                results[engine] = (outcome(target, kind, source, engine, skip), stored(target))
            finally:
                bulk.CHUNK, bulk.KeyStore.IN_MEMORY = old, old_keys
                bulk.KeyStore.HASHED_LINES = old_hashed
        assert results["bulk"][0] == results["rows"][0]
        assert results["bulk"][1] == results["rows"][1]


def test_fast_paths_are_taken_on_a_clean_file(demo_template: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Agreement alone would hold if the bulk engine always fell back: clean rows must not."""
    from outcomes.importing.kinds import ResponsesKind

    episode = open_db(demo_template).execute("SELECT id FROM episodes LIMIT 1").fetchone()[0]
    path = tmp_path / "r.csv"
    path.write_text("episode_id,instrument,timepoint,date,answers\n"
                    f"{episode},odi,intake,2026-11-01,3;3;2;2;3;2;2;3;2;2\n"
                    f"{episode},nprs,discharge,11/02/2026,4\n")
    calls = []
    monkeypatch.setattr(ResponsesKind, "prepare",
                        lambda self, values, ctx: calls.append(values))
    target = tmp_path / "d.db"
    shutil.copy(demo_template, target)
    db = open_db(target)
    report = run_import(db, "responses", path, today=DEMO_TODAY)
    db.close()
    assert report.written and report.rows == 2 and calls == []


@DIFF
@given(data=st.data(), skip=st.booleans(), chunk=st.sampled_from([1, 3, 5_000]))
def test_bulk_and_rows_agree_on_clinical_content(demo_template: Path,
                                                 demo_facts: dict[str, list[str]],
                                                 data: st.DataObject, skip: bool,
                                                 chunk: int) -> None:
    """The general test draws every referral column at once, so a row with every clinical cell
    valid is rare there: here the referral itself is valid and only the clinical cells vary."""
    from outcomes.network.clinical import CLINICAL_COLUMNS

    clinical = [c for c in CLINICAL_COLUMNS if c not in ("onset_date", "diagnosis",
                                                           "chief_complaint")]
    header = ["episode_id", "patient_id", "referral_date", "body_region", *data.draw(
        st.lists(st.sampled_from(clinical), min_size=1, unique=True), label="columns")]
    good = {"history": "Two prior episodes", "findings": "SLR negative", "treatment": "Manual",
            "plan": "Restore sitting", "plan_interventions": "exercise", "plan_frequency": "2x/week",
            "plan_duration": "6 weeks", "referral_question": "Imaging?", "precautions": "none",
            "physician_follow_up": "2027-01-15", "poc_sent_date": "2026-01-09",
            "poc_certified_date": "2026-01-20", "poc_certified_by": "signed"}
    episodes = demo_facts["episodes"] + ["E-NEW-1", "E-NEW-2"]
    row = st.tuples(st.sampled_from(episodes), st.just("MRN-A"), st.just("2026-01-05"),
                    st.just("knee"), *[st.one_of(st.just(good[c]), CLINICAL_VALUES[c])
                                       for c in header[4:]]).map(list)
    rows = data.draw(st.lists(row, max_size=6, unique_by=lambda r: r[0]), label="rows")
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "file.csv"
        source.write_text(out.getvalue(), encoding="utf-8")
        results = {}
        for engine in ("rows", "bulk"):
            target = folder / f"{engine}.db"
            shutil.copy(demo_template, target)
            old = bulk.CHUNK
            bulk.CHUNK = chunk
            try:
                results[engine] = (outcome(target, "referrals", source, engine, skip),
                                   stored(target))
            finally:
                bulk.CHUNK = old
        assert results["bulk"][0] == results["rows"][0]
        assert results["bulk"][1] == results["rows"][1]


def test_fast_path_is_taken_for_clean_clinical_content(demo_template: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Agreement alone would hold if every row with clinical content fell back."""
    from outcomes.importing.kinds import ReferralsKind

    path = tmp_path / "r.csv"
    path.write_text("episode_id,patient_id,referral_date,body_region,history,plan_frequency,"
                    "physician_follow_up,poc_sent_date,poc_certified_date,poc_certified_by\n"
                    "E-F1,MRN-F,2026-01-05,knee,Two prior,2x/week,2027-01-15,2026-01-09,"
                    "01/20/2026,Order on file\n")
    calls = []
    monkeypatch.setattr(ReferralsKind, "prepare",
                        lambda self, values, ctx: calls.append(values))
    target = tmp_path / "d.db"
    shutil.copy(demo_template, target)
    db = open_db(target)
    report = run_import(db, "referrals", path, today=DEMO_TODAY, engine="bulk")
    row = db.execute("SELECT history, poc_certified_date, poc_certified_by FROM episodes"
                     " WHERE id = 'E-F1'").fetchone()
    db.close()
    assert report.written and calls == []
    assert row == ("Two prior", "2026-01-20", "order_on_file")


def test_fast_path_is_taken_for_clean_goals(demo_template: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Agreement alone would hold if every goal row fell back to GoalsKind.prepare."""
    from outcomes.importing.kinds import GoalsKind

    episode = open_db(demo_template).execute("SELECT id FROM episodes LIMIT 1").fetchone()[0]
    path = tmp_path / "g.csv"
    path.write_text("episode_id,goal,target_date,status\n"
                    f"{episode}, Walk 2 km without pain ,01/15/2027,Partly_Met\n"
                    f"{episode},Sit 60 min,,\n")
    calls = []
    monkeypatch.setattr(GoalsKind, "prepare", lambda self, values, ctx: calls.append(values))
    target = tmp_path / "d.db"
    shutil.copy(demo_template, target)
    db = open_db(target)
    report = run_import(db, "goals", path, today=DEMO_TODAY, engine="bulk")
    rows = db.execute("SELECT goal, target_date, status FROM episode_goals WHERE episode_id = ?"
                      " AND goal IN ('Walk 2 km without pain', 'Sit 60 min') ORDER BY goal",
                      [episode]).fetchall()
    db.close()
    assert report.written and calls == []
    assert rows == [("Sit 60 min", None, "open"),
                    ("Walk 2 km without pain", "2027-01-15", "partly_met")]


@pytest.mark.parametrize("chunk", [1, 2, 5_000])
def test_summary_from_the_written_chunk_agrees_with_reading_back(
        demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        chunk: int) -> None:
    """The bulk engine builds the outcome summary from the rows it has just written plus those
    stored before: a response replacing a stored one (same key, other answers), new ones before
    and after it, and an episode spread over chunks give the rows the reference reads back."""
    from outcomes.measures import summary

    db = open_db(demo_template)
    episode, timepoint, when = db.execute(
        "SELECT episode_id, timepoint, date FROM responses WHERE instrument = 'odi'"
        " AND timepoint = 'intake' ORDER BY id LIMIT 1").fetchone()
    other = db.execute("SELECT id FROM episodes WHERE id != ? ORDER BY id LIMIT 1",
                       [episode]).fetchone()[0]
    db.close()
    path = tmp_path / "r.csv"
    path.write_text("episode_id,instrument,timepoint,date,answers,score\n"
                    f"{episode},odi,{timepoint},{when},5;5;5;5;5;5;5;5;5;5,\n"
                    f"{other},nprs,intake,2026-01-05,,8\n"
                    f"{episode},odi,discharge,2026-11-20,0;0;0;0;0;0;0;0;0;1,\n"
                    f"{other},nprs,discharge,2026-03-05,,2\n"
                    f"{episode},nprs,intake,{when},,9\n")
    given: list[bool] = []
    real = summary.refresh

    def spy(db: Any, ids: Any = None, *, responses: Any = None, memo: Any = None) -> int:
        given.append(responses is not None)
        return real(db, ids, responses=responses, memo=memo)

    monkeypatch.setattr(summary, "refresh", spy)
    monkeypatch.setattr(bulk, "CHUNK", chunk)
    results = {}
    for engine in ("rows", "bulk"):
        target = tmp_path / f"{engine}.db"
        shutil.copy(demo_template, target)
        db = open_db(target)
        report = run_import(db, "responses", path, today=DEMO_TODAY, engine=engine)
        assert report.written and (report.added, report.updated) == (4, 1)
        results[engine] = db.execute(
            "SELECT * FROM episode_outcomes WHERE episode_id IN (?, ?) ORDER BY 1, 2",
            [episode, other]).fetchall()
        db.close()
    assert results["bulk"] == results["rows"]
    intake = {(r[0], r[1]): r[6] for r in results["bulk"]}
    assert intake[(episode, "odi")] == 100.0  # the replaced intake, not the stored one
    assert intake[(other, "nprs")] == 8.0
    # The reference reads back (no responses given); the bulk engine never had to.
    assert given.count(True) == -(-5 // chunk) and given.count(False) >= 1


@pytest.mark.parametrize("in_memory", [0, 1, 2, 3, 100])
def test_repeated_keys_name_the_first_line_wherever_the_keys_are_kept(in_memory: int) -> None:
    # Lines 2-6 carry keys a, b, a, c, b; the key store moves to its database after
    # ``in_memory`` keys (chunks of 2), and the repeats must name lines 2 and 3 all the same.
    rows = [Prepared(key, None, line=line) for line, key in
            enumerate(["a", "b", "a", "c", "b"], start=2)]
    store = bulk.KeyStore()
    old = bulk.KeyStore.IN_MEMORY
    bulk.KeyStore.IN_MEMORY = in_memory
    try:
        repeats = [(item.line, first) for start in range(0, len(rows), 2)
                   for item, first in store.add(rows[start:start + 2])]
    finally:
        bulk.KeyStore.IN_MEMORY = old
        store.close()
    assert repeats == [(4, 2), (6, 3)]


@pytest.mark.parametrize("collide", [False, True])
@pytest.mark.parametrize("chunk", [1, 2, 5])
def test_hashed_keys_replay_exactly_when_a_hash_repeats(collide: bool, chunk: int) -> None:
    # Lines 2-6 carry keys a, b, a, c, b, kept as hashes; the first repeated hash (line 4, or
    # line 3 when every key shares one hash) replays the rows before its chunk into the key
    # database, and the repeats still name lines 2 and 3, never a false one.
    keys = ["a", "b", "a", "c", "b"]
    rows = [Prepared(key, None, line=line) for line, key in enumerate(keys, start=2)]
    replayed: list[int] = []

    def replay(before: int) -> list[tuple[str, int]]:
        replayed.append(before)
        return [(item.key, item.line) for item in rows if item.line < before]

    store = bulk.KeyStore()
    old = bulk.KeyStore.IN_MEMORY, bulk.KeyStore._hash
    bulk.KeyStore.IN_MEMORY = 0
    if collide:
        bulk.KeyStore._hash = staticmethod(lambda key: 7)
    try:
        store.hashed(10, replay)
        assert store.hashes is not None
        repeats = [(item.line, first) for start in range(0, len(rows), chunk)
                   for item, first in store.add(rows[start:start + chunk])]
    finally:
        bulk.KeyStore.IN_MEMORY, bulk.KeyStore._hash = old
        store.close()
    assert repeats == [(4, 2), (6, 3)]
    assert len(replayed) == 1 and store.hashes is None
    # Replayed up to the chunk holding the first repeated hash.
    first_repeat = 3 if collide else 4
    assert replayed[0] == 2 + ((first_repeat - 2) // chunk) * chunk


def test_hashed_keys_only_for_files_past_the_dict_and_within_the_limit() -> None:
    store = bulk.KeyStore()
    store.hashed(bulk.KeyStore.IN_MEMORY, lambda before: [])
    assert store.hashes is None  # small: the exact dict
    store.hashed(bulk.KeyStore.HASHED_LINES + 1, lambda before: [])
    assert store.hashes is None  # large: hashes would grow with the file
    store.hashed(bulk.KeyStore.HASHED_LINES, lambda before: [])
    assert store.hashes == set()


@DIFF
@given(data=st.data(), skip=st.booleans(), chunk=st.sampled_from([1, 3, 5_000]),
       buckets=st.sampled_from([None, 1, 3]))
def test_bulk_and_rows_agree_with_hashed_keys(demo_template: Path,
                                              demo_facts: dict[str, list[str]],
                                              data: st.DataObject, skip: bool, chunk: int,
                                              buckets: int | None) -> None:
    """Mostly valid nps rows with repeats anywhere, the keys kept as hashes from the first
    row: the replay after the first repeated hash must find what the row engine finds. With
    ``buckets``, keys share few hashes, so distinct keys collide too."""
    row = st.tuples(st.sampled_from(["", *demo_facts["episodes"]]),
                    st.sampled_from(["2026-01-05", "01/06/2026", "2026-02-30", "2026-11-01"]),
                    st.sampled_from(["0", "7", "10", "11"]),
                    st.sampled_from(["", "ok", "Parking was hard."])).map(list)
    rows = data.draw(st.lists(row, min_size=1, max_size=10), label="rows")
    for at in data.draw(st.lists(st.integers(0, len(rows) - 1), max_size=3), label="repeats"):
        rows.insert(data.draw(st.integers(at + 1, len(rows)), label="where"), list(rows[at]))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["episode_id", "date", "score", "comment"])
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "nps.csv"
        source.write_text(out.getvalue(), encoding="utf-8")
        results = {}
        for engine in ("rows", "bulk"):
            target = folder / f"{engine}.db"
            shutil.copy(demo_template, target)
            old = (bulk.CHUNK, bulk.KeyStore.IN_MEMORY, bulk.KeyStore.HASHED_LINES,
                   bulk.KeyStore._hash)
            bulk.CHUNK, bulk.KeyStore.IN_MEMORY, bulk.KeyStore.HASHED_LINES = chunk, 0, 10**9
            if buckets is not None:
                bulk.KeyStore._hash = staticmethod(
                    lambda key: hash(key) % buckets)
            try:
                results[engine] = (outcome(target, "nps", source, engine, skip),
                                   stored(target))
            finally:
                (bulk.CHUNK, bulk.KeyStore.IN_MEMORY, bulk.KeyStore.HASHED_LINES,
                 bulk.KeyStore._hash) = old
        assert results["bulk"] == results["rows"]
