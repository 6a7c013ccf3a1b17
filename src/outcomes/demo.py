"""A deterministic demo clinic, with dates relative to today, that tells stories on first open.

Stories built in: a long-standing orthopedic surgeon whose referrals halved over the last four
months and whom nobody has contacted in four months; a strong, growing sports-medicine partner; a
brand-new podiatrist with a first referral; patients who self-discharged without a discharge
score; recent discharges nobody has reported back on; a partner close to the yearly gift/meal
limit; NPS comments, one of which contains text that looks like markup; letters sent as a
well-run clinic sends them, a few recent ones still owed; surgeons who send post-operative cases
(a joint-replacement surgeon among them).

One module because the demo is one deterministic sequence of random draws: split across
modules, the order of the draws, and so every story above, would hang on the call order.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database

from outcomes import vocab
from outcomes.dates import now_iso
from outcomes.dates import today as local_today
from outcomes.measures import catalog, responses
from outcomes.measures import summary as outcome_summary
from outcomes.measures.instruments import Direction, Instrument
from outcomes.models import Episode, Partner, Patient
from outcomes.network.episodes import save_episode, save_patient
from outcomes.network.partners import save_partner
from outcomes.npi import npi_check_digit
from outcomes.store import audit, settings
from outcomes.store.database import transaction

DEMO_KEY = "x_demo"

REGION_INSTRUMENT = vocab.DEFAULT_INSTRUMENT_BY_REGION
REGION_DIAGNOSES = {
    "low back": ["M54.50", "M51.26", "M48.061", "S33.5XXA"],
    "neck": ["M54.2", "M50.20", "S13.4XXA"],
    "shoulder": ["M75.101", "M75.41", "S43.431A", "M25.511"],
    "elbow": ["M77.11", "M77.01"],
    "wrist/hand": ["G56.01", "S62.101A", "M65.4"],
    "hip": ["M16.11", "M25.551", "Z96.641"],
    "knee": ["M17.11", "S83.511A", "Z96.651", "M22.2X1"],
    "ankle/foot": ["S93.401A", "M72.2", "M76.60"],
}
KIND_REGIONS = {
    "orthopedic surgeon": ["knee", "hip", "shoulder", "low back", "ankle/foot", "wrist/hand"],
    "spine surgeon": ["low back", "neck"],
    "sports medicine": ["knee", "shoulder", "ankle/foot", "hip", "elbow"],
    "podiatrist": ["ankle/foot"],
    "neurologist": ["low back", "neck"],
    "pain management": ["low back", "neck"],
    "chiropractor": ["low back", "neck"],
    "personal-injury attorney": ["neck", "low back", "shoulder"],
}
ALL_REGIONS = list(REGION_INSTRUMENT)

# After surgery: (procedure, the post-operative ICD-10 code the referral carries), weighted by
# repetition. Post-operative shares by kind of partner in POST_OP.
POST_OP_CASES = {
    "knee": [("Total knee arthroplasty", "Z96.651")] * 5
    + [("ACL reconstruction", "S83.511A"), ("Meniscectomy or meniscus repair", "S83.241A")],
    "hip": [("Total hip arthroplasty", "Z96.641")] * 4 + [("Hip arthroscopy", "M25.551")],
    "shoulder": [("Rotator cuff repair", "M75.121")] * 3
    + [("Shoulder arthroplasty", "Z96.611"), ("Shoulder stabilization", "S43.431A")],
    "low back": [("Lumbar discectomy or laminectomy", "M51.16"), ("Spinal fusion", "Z98.1")],
    "neck": [("Spinal fusion", "Z98.1")],
    "ankle/foot": [("Ankle fracture ORIF", "S82.851A"), ("Achilles tendon repair", "S86.011A")],
    "wrist/hand": [("Carpal tunnel release", "G56.01"),
                   ("Distal radius fracture ORIF", "S52.501A")],
}
IMPLANT_PROCEDURE = {"Z96.651": "Total knee arthroplasty", "Z96.641": "Total hip arthroplasty"}
POST_OP = {"orthopedic surgeon": 0.75, "spine surgeon": 0.5, "sports medicine": 0.3,
           "podiatrist": 0.2}

FIRST = ["Ana", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Hector", "Irene", "James",
         "Kara", "Luis", "Maya", "Nate", "Olivia", "Paul", "Quinn", "Rosa", "Sam", "Tara",
         "Umar", "Vera", "Will", "Xena", "Yusuf", "Zoe", "Marta", "Joon", "Aisha", "Pedro"]
LAST = ["Anders", "Brooks", "Castillo", "Dunn", "Ellis", "Fischer", "Garcia", "Hughes", "Ito",
        "Jensen", "Kowalski", "Lee", "Morales", "Nguyen", "Ortiz", "Patel", "Quigley", "Reyes",
        "Silva", "Turner", "Ueda", "Vargas", "Walsh", "Xu", "Young", "Zimmer", "Baptiste"]
CLINICIANS = ["A. Moreno, PT, DPT", "J. Whitfield, PT", "K. Osei, DPT", "L. Brandt, DC",
              "R. Tanaka, PT, OCS"]
COMMENTS_GOOD = ["Great team, I can walk my dog again.", "Everyone was kind and on time.",
                 "Back to golf after 3 months!", "Exercises made sense and worked.",
                 "Front desk made scheduling easy.", "Would recommend to my family."]
COMMENTS_MID = ["Parking was hard.", "Helpful but the visits felt rushed.",
                "Good care; wish evening hours existed."]
COMMENTS_BAD = ["Still in pain, not sure it helped.", "Waited 25 minutes twice.",
                "Billing was confusing [bold]and nobody called back[/bold].",
                "Felt like a number, not a person."]


@dataclass
class DemoPartner:
    name: str
    kind: str
    org: str
    rate: float  # referrals per month at the start of the two years
    trend: str = "steady"  # steady | fading | growing | new | none
    npi: bool = True
    stage: str = "active"
    last_touch_days: int = 25
    regions: tuple[str, ...] = ()
    """The regions this partner sends (weighted by repetition); default: by kind."""
    post_op: float | None = None
    """Share of referrals after surgery; default: by kind (POST_OP)."""
    replacements_only: bool = False
    """After surgery, always a joint replacement (a joint-replacement surgeon)."""


def _partners() -> list[DemoPartner]:
    p = DemoPartner
    return [
        p("Dr. Margaret Hale", "orthopedic surgeon", "Cascade Orthopedics", 6.0, "fading",
          stage="mature", last_touch_days=128),
        p("Dr. Samuel Okafor", "sports medicine", "Summit Sports Medicine", 1.5, "growing",
          stage="growing", last_touch_days=9),
        p("Dr. Priya Raman", "podiatrist", "Raman Foot & Ankle", 0.0, "new", stage="outreach",
          last_touch_days=12),
        p("Dr. Thomas Reed", "primary care", "Riverside Family Medicine", 3.5, stage="mature",
          last_touch_days=20),
        p("Dr. Linda Chu", "primary care", "Riverside Family Medicine", 2.5, last_touch_days=40),
        p("Dr. Kevin Walsh", "orthopedic surgeon", "Cascade Orthopedics", 3.0, stage="mature",
          last_touch_days=33),
        p("Dr. Nadia Haddad", "spine surgeon", "Pacific Spine Institute", 2.0),
        p("Dr. Robert Klein", "neurologist", "Northwest Neurology", 1.2, last_touch_days=50),
        p("Dr. Emily Carter", "primary care", "Oak Street Clinic", 2.2),
        p("Dr. George Patel", "internal medicine", "Oak Street Clinic", 1.4, last_touch_days=70),
        p("Dr. Helen Morris", "pain management", "Valley Pain Center", 1.8),
        p("Dr. Ivan Petrov", "chiropractor", "Petrov Chiropractic", 1.0, stage="active"),
        p("Dr. Julia Santos", "sports medicine", "Eastside Sports Clinic", 2.0),
        p("Dr. Marcus Lee", "orthopedic surgeon", "Bridgeview Orthopedics", 2.4),
        p("Dr. Olga Novak", "primary care", "Lakeside Health", 1.6, last_touch_days=95),
        p("Dr. Peter Grant", "podiatrist", "Grant Podiatry", 0.9),
        p("Dr. Rachel Kim", "primary care", "Lakeside Health", 1.9),
        p("Dr. Steven Young", "neurologist", "Northwest Neurology", 0.7, stage="active"),
        p("Dr. Teresa Alvarez", "primary care", "Hillcrest Medical Group", 2.6),
        p("Dr. Victor Huang", "orthopedic surgeon", "Hillcrest Medical Group", 1.7),
        p("Dr. Wendy Brooks", "pain management", "Valley Pain Center", 0.8),
        p("Dr. Yara Aziz", "internal medicine", "Hillcrest Medical Group", 1.1),
        p("Dr. Zachary Moss", "chiropractor", "Moss Family Chiropractic", 0.7),
        p("Dr. Alicia Grey", "primary care", "Westgate Clinic", 1.3, last_touch_days=61),
        p("Dr. Brian Foster", "sports medicine", "Westgate Clinic", 0.9),
        # A joint-replacement surgeon: her patients come after a new knee or hip.
        p("Dr. Chloe Dubois", "orthopedic surgeon", "Bridgeview Orthopedics", 1.5,
          regions=("knee", "knee", "knee", "hip", "hip"), post_op=1.0,
          replacements_only=True),
        p("Dr. Daniel Ortiz", "primary care", "Southside Community Health", 1.5),
        p("Dr. Eva Lindqvist", "neurologist", "Lindqvist Neurology", 0.5),
        p("Dr. Felix Wagner", "primary care", "Southside Community Health", 1.0),
        p("Dr. Gina Russo", "internal medicine", "Westgate Clinic", 0.6),
        p("Dr. Hannah Cole", "primary care", "Maple Family Practice", 1.2),
        p("Dr. Isaac Bloom", "spine surgeon", "Pacific Spine Institute", 0.8),
        p("Dr. Jasmine Wu", "primary care", "Maple Family Practice", 0.9),
        p("Dr. Karl Schmidt", "podiatrist", "Schmidt Foot Care", 0.4, stage="outreach"),
        p("Morgan & Pike LLP", "personal-injury attorney", "Morgan & Pike LLP", 0.9, npi=False),
        p("Delgado Injury Law", "personal-injury attorney", "Delgado Injury Law", 0.6, npi=False),
        p("Northwest Imaging", "hospital", "Northwest Imaging Center", 0.0, "none",
          stage="active"),
        p("Dr. Laura Benton", "mental health", "Benton Counseling", 0.0, "none", stage="active"),
        p("Dr. Martin Vogel", "primary care", "Vogel Internal Medicine", 0.0, "none",
          stage="prospect", last_touch_days=0),
        p("Dr. Nora Iqbal", "sports medicine", "Iqbal Sports & Spine", 0.0, "none",
          stage="prospect", last_touch_days=0),
    ]


def _npi(rng: random.Random) -> str:
    first_nine = "1" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return first_nine + str(npi_check_digit(first_nine))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _rate(partner: DemoPartner, months_ago: float) -> float:
    """Referrals per month for a partner, ``months_ago`` months before today."""
    if partner.trend == "fading":
        return partner.rate if months_ago > 4 else partner.rate * 0.35
    if partner.trend == "growing":
        return partner.rate + (24 - months_ago) * 0.32
    return partner.rate


def _item_worse_high(instrument: Instrument, item_id: str) -> bool:
    return instrument.item_direction(item_id) is Direction.HIGHER_IS_WORSE


def _answers(rng: random.Random, instrument: Instrument, severity: float,
             missing_one: bool = False) -> list[int | None]:
    """Plausible answers for a patient whose disability is ``severity`` (0 none, 1 worst)."""
    if instrument.id == "psfs":
        level = max(0.0, min(1.0, 1 - severity + rng.gauss(0, 0.08)))
        return [max(0, min(10, round(10 * level + rng.gauss(0, 1)))) for _ in range(3)]
    out: list[int | None] = []
    for item in instrument.items:
        level = severity if _item_worse_high(instrument, item.id) else 1 - severity
        value = item.min + (item.max - item.min) * level + rng.gauss(0, 0.6)
        out.append(max(item.min, min(item.max, round(value))))
    if missing_one and len(out) >= 10:
        out[rng.randrange(len(out))] = None
    return out


def build_demo(db: Database, *, seed: int = 7, today: date | None = None) -> dict[str, int]:
    """Write the demo clinic into an empty database; return counts of what was written."""
    rng = random.Random(seed)
    today = today or local_today()
    start = today - timedelta(days=730)
    known = catalog.instruments()
    counts = {"partners": 0, "episodes": 0, "responses": 0, "nps answers": 0,
              "touchpoints": 0}
    with transaction(db):
        for key, value in {"clinic_name": "Riverside Physical Therapy",
                           "clinic_contact": "1200 River Rd, Portland OR 97201 · "
                           "phone (503) 555-0142 · fax (503) 555-0143",
                           DEMO_KEY: True}.items():
            db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, json(?))",
                       [key, _json(value)])
        partner_ids: dict[str, int] = {}
        specs = _partners()
        for spec in specs:
            partner = Partner(
                name=spec.name, kind=spec.kind, organization=spec.org,
                npi=_npi(rng) if spec.npi else None,
                phone=f"(503) 555-{rng.randint(1000, 9999)}",
                fax=f"(503) 555-{rng.randint(1000, 9999)}",
                city="Portland", state="OR", zip=f"972{rng.randint(10, 99)}",
                preferred_contact="fax" if spec.npi else "email",
                stage=spec.stage,
            )
            partner_ids[spec.name] = save_partner(db, partner).id
            counts["partners"] += 1
        new_partner = partner_ids["Dr. Priya Raman"]
        db.execute("UPDATE partners SET created_at = ?, stage_source = 'suggested' WHERE id = ?",
                   [(today - timedelta(days=12)).isoformat() + "T09:00:00+00:00", new_partner])
        db.execute("UPDATE partners SET stage_source = 'suggested'")

        _touchpoints(db, rng, specs, partner_ids, today, counts)
        episode_n = 0
        prepared: list[responses.PreparedResponse] = []
        nps_rows: list[tuple[Any, ...]] = []
        comms = _Letters()
        outbound_rows: list[tuple[Any, ...]] = []
        receivers = [partner_ids[n] for n in ("Northwest Imaging", "Dr. Laura Benton",
                                               "Dr. Helen Morris", "Dr. Nadia Haddad")]
        reasons = ["MRI to rule out full-thickness rotator cuff tear after 6 weeks without "
                   "progress", "Cognitive behavioural support for fear-avoidance beliefs",
                   "Persistent radicular pain despite 8 visits; consider injection",
                   "Progressive neurological deficit; surgical consult"]
        for spec in specs:
            pid = partner_ids[spec.name]
            for month in range(24):
                months_ago = 24 - month - 0.5
                n = _poisson(rng, _rate(spec, months_ago))
                if spec.trend == "new":
                    n = 0
                for _ in range(n):
                    day = start + timedelta(days=int(month * 30.4 + rng.random() * 30.4))
                    if day > today - timedelta(days=1):
                        continue
                    episode_n += 1
                    _episode(db, rng, known, f"E{episode_n:05d}", pid, spec, day, today,
                             prepared, nps_rows, comms)
        # The new partner's first referral, five days ago, evaluated two days ago.
        episode_n += 1
        raman = next(s for s in specs if s.trend == "new")
        _episode(db, rng, known, f"E{episode_n:05d}", new_partner, raman,
                 today - timedelta(days=5), today, prepared, nps_rows, comms)
        counts["episodes"] = episode_n
        # Outbound referrals: a few patients the clinic sent on, each with its rationale.
        discharged = [r[0] for r in db.execute(
            "SELECT id FROM episodes WHERE first_visit_date IS NOT NULL ORDER BY id")]
        for episode_id in rng.sample(discharged, k=min(40, len(discharged))):
            first = db.execute("SELECT first_visit_date FROM episodes WHERE id = ?",
                               [episode_id]).fetchone()[0]
            when = min(date.fromisoformat(first) + timedelta(days=rng.randint(14, 40)), today)
            which = rng.randrange(len(receivers))
            outbound_rows.append((episode_id, receivers[which], when.isoformat(),
                                  reasons[which], now_iso()))
        db.conn.executemany(
            "INSERT OR IGNORE INTO outbound_referrals (episode_id, partner_id, date, reason,"
            " created_at) VALUES (?, ?, ?, ?, ?)", outbound_rows)
        responses.write(db, prepared)
        counts["responses"] = len(prepared)
        db.conn.executemany(
            "INSERT OR IGNORE INTO nps_responses (episode_id, date, score, comment, created_at)"
            " VALUES (?, ?, ?, ?, ?)", nps_rows)
        counts["nps answers"] = len(nps_rows)
        # The plan-of-care dates go on episode rows written above.
        db.conn.executemany(
            "UPDATE episodes SET poc_sent_date = ?2, poc_certified_date = ?3,"
            " poc_certified_by = ?4 WHERE id = ?1", comms.certified)
        db.conn.executemany(
            "INSERT INTO communications (partner_id, episode_id, date, kind, channel, note,"
            " created_at, document, status, sent_date)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'sent', ?)", comms.sent)
        outcome_summary.refresh(db)
        audit.log(db, "demo", "all", seed=seed, **counts)
    from outcomes.store.database import refresh_statistics

    refresh_statistics(db)
    return counts


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _touchpoints(db: Database, rng: random.Random, specs: list[DemoPartner],
                 partner_ids: dict[str, int], today: date, counts: dict[str, int]) -> None:
    rows: list[tuple[Any, ...]] = []
    staff = ["Jordan (liaison)", "A. Moreno", "Clinic owner"]
    for spec in specs:
        if spec.last_touch_days <= 0:
            continue
        pid = partner_ids[spec.name]
        last = today - timedelta(days=spec.last_touch_days)
        span = 300 if spec.trend != "new" else 0
        cadence = 45 if spec.trend != "growing" else 20
        day = last - timedelta(days=span)
        while day <= last:
            method = rng.choice(["phone", "email", "in person", "fax", "packet"])
            rows.append((pid, day.isoformat(), method, rng.choice(staff),
                         f"{method.capitalize()} check-in", None, None))
            day += timedelta(days=cadence + rng.randint(-5, 5))
        rows.append((pid, last.isoformat(), "phone", "Jordan (liaison)",
                     "Caught up on shared patients", None,
                     (last + timedelta(days=30)).isoformat()))
    # Meals this calendar year: one partner close to the yearly limit, one comfortably under.
    year_start = date(today.year, 1, 1)
    okafor = partner_ids["Dr. Samuel Okafor"]
    reed = partner_ids["Dr. Thomas Reed"]
    for offset, amount, who in ((20, 180.0, okafor), (90, 160.0, okafor), (150, 95.0, okafor),
                                (40, 85.0, reed)):
        # Spread over the year so far; early in January they all fall on 1 January.
        span = max((today - year_start).days, 0)
        when = year_start + timedelta(days=offset * span // 200)
        rows.append((who, when.isoformat(), "lunch and learn", "Clinic owner",
                     f"Lunch and learn for office staff (meal ${amount:.0f})", amount, None))
    created = now_iso()
    db.conn.executemany(
        "INSERT OR IGNORE INTO touchpoints (partner_id, date, method, who, summary, amount,"
        " next_follow_up, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(*r, created) for r in rows])
    counts["touchpoints"] = len(rows)


def _episode(db: Database, rng: random.Random, known: dict[str, Instrument], episode_id: str,
             partner_id: int, spec: DemoPartner, referred: date, today: date,
             prepared: list[responses.PreparedResponse], nps_rows: list[tuple[Any, ...]],
             comms: _Letters) -> None:
    regions = list(spec.regions) or KIND_REGIONS.get(spec.kind, ALL_REGIONS)
    region = rng.choice(regions)
    # The condition from its own generator, so that it never shifts the rest of the clinic.
    crng = random.Random(f"{episode_id}-condition")
    patient = Patient(
        record_number=f"MRN{rng.randint(100000, 999999)}",
        name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        birth_date=date(rng.randint(1940, 2006), rng.randint(1, 12), rng.randint(1, 28)),
        sex=rng.choice(["F", "M"]),
    )
    patient_id = save_patient(db, patient)
    roll = rng.random()
    fields: dict[str, Any] = {
        "id": episode_id, "patient_record_number": patient.record_number,
        "partner_id": partner_id, "referral_date": referred, "body_region": region,
        "diagnosis": rng.choice(REGION_DIAGNOSES[region]),
        "surgical": False,
        "clinician": rng.choice(CLINICIANS),
        "clinic": rng.choice(["Riverside", "Riverside", "Eastside"]),
        "instrument": REGION_INSTRUMENT[region],
        "onset_date": referred - timedelta(days=rng.randint(7, 120)),
        "chief_complaint": f"{region.capitalize()} pain limiting daily activities",
    }
    if fields["diagnosis"] in IMPLANT_PROCEDURE:  # a joint replacement is surgery
        fields.update(procedure=IMPLANT_PROCEDURE[fields["diagnosis"]], surgical=True)
    post_op = spec.post_op if spec.post_op is not None else POST_OP.get(spec.kind, 0.03)
    if region in POST_OP_CASES and crng.random() < post_op:
        cases = POST_OP_CASES[region]
        if spec.replacements_only:
            cases = [c for c in cases if c[1].startswith("Z96")] or cases
        procedure, code = crng.choice(cases)
        fields.update(procedure=procedure, diagnosis=code, surgical=True,
                      chief_complaint=f"Rehabilitation after {procedure[0].lower()}"
                      f"{procedure[1:]}" if not procedure.isupper() else procedure)
    if roll < 0.08 and spec.trend != "new":
        fields.update(status="not_scheduled", status_reason=rng.choice(
            ["Could not reach patient", "Insurance not accepted", "Chose another clinic"]))
        save_episode(db, Episode(**fields), patient_id)
        return
    if roll < 0.11 and spec.trend != "new":
        fields.update(status="cancelled", status_reason="Patient cancelled before evaluation")
        save_episode(db, Episode(**fields), patient_id)
        return
    first = referred + timedelta(days=rng.randint(2, 12) if spec.trend != "new" else 3)
    if first > today:
        fields.update(scheduled_date=first)
        save_episode(db, Episode(**fields), patient_id)
        return
    instrument = known[REGION_INSTRUMENT[region]]
    severity = min(0.9, max(0.15, rng.gauss(0.48, 0.13)))
    gain = min(0.95, max(-0.15, rng.gauss(0.5, 0.22) + (0.08 if spec.trend == "growing" else 0)))
    visits_planned = rng.randint(5, 16)
    span = visits_planned * rng.randint(4, 7)
    discharge = first + timedelta(days=span)
    reason_roll = rng.random()
    self_discharged = reason_roll < 0.09
    fields["first_visit_date"] = first
    fields["findings"] = "Reduced range of motion and strength; positive provocation tests"
    fields["treatment"] = "Manual therapy, graded exercise, education"
    prepared.append(responses.prepare(instrument, episode_id, "intake", first,
                                      _answers(rng, instrument, severity)))
    pain = None
    if rng.random() < 0.5:
        pain = max(0, min(10, round(severity * 10 + rng.gauss(1, 1))))
        prepared.append(responses.prepare(known["nprs"], episode_id, "intake", first, [pain]))
    if spec.trend != "new":  # the new partner's first referral is the story of its own alert
        # Its own random stream: the letters must not shift the draws of the stories below.
        _letters_sent(random.Random(f"letters-{episode_id}"), comms, fields, partner_id, first,
                      min(discharge, today), today)
    mid = first + timedelta(days=span // 2)
    if mid <= today and visits_planned >= 6:
        prepared.append(responses.prepare(
            instrument, episode_id, "progress", mid,
            _answers(rng, instrument, severity * (1 - gain / 2), missing_one=rng.random() < 0.1)))
    if discharge > today:
        visits = max(1, (today - first).days // max(1, span // visits_planned))
        fields.update(visits=min(visits, visits_planned))
        save_episode(db, Episode(**fields), patient_id)
        return
    if self_discharged:
        fields.update(discharge_date=mid if mid <= today else first,
                      visits=max(2, visits_planned // 2), discharge_reason="self_discharged")
        save_episode(db, Episode(**fields), patient_id)
        return
    fields.update(discharge_date=discharge, visits=visits_planned,
                  discharge_reason="goals_met" if reason_roll < 0.85 else "plateau",
                  plan="Independent home exercise program")
    save_episode(db, Episode(**fields), patient_id)
    final_severity = max(0.0, severity * (1 - gain))
    prepared.append(responses.prepare(instrument, episode_id, "discharge", discharge,
                                      _answers(rng, instrument, final_severity)))
    if pain is not None:
        final_pain = max(0, min(10, round(pain * (1 - gain) + rng.gauss(0, 0.8))))
        prepared.append(responses.prepare(known["nprs"], episode_id, "discharge", discharge,
                                          [final_pain]))
    if rng.random() < 0.62:
        score = max(0, min(10, round(6 + gain * 7 + rng.gauss(0, 1.3))))
        comment = ""
        if rng.random() < 0.45:
            pool = COMMENTS_GOOD if score >= 9 else COMMENTS_MID if score >= 7 else COMMENTS_BAD
            comment = rng.choice(pool)
        nps_rows.append((episode_id, discharge.isoformat(), score, comment, now_iso()))
    # Most discharges were reported back to the referrer; the last few days' are still owed.
    # (The draw is made for the last three weeks' discharges, as it always was, so the stories'
    # random stream stays as it is.)
    days = (today - discharge).days
    roll = rng.random() if days <= 21 else 1.0
    if days > 21 or roll < 0.3:
        offset = rng.randint(1, 5)
    elif days > 4:
        offset = random.Random(f"discharge-{episode_id}").randint(1, 5)
    else:
        return
    _sent(comms, partner_id, episode_id, "discharge_summary",
          min(discharge + timedelta(days=offset), today))


@dataclass
class _Letters:
    """What the demo clinic sent (communication rows) and the plan-of-care certifications
    (episode id, sent, certified, how), written once the episodes are."""

    sent: list[tuple[Any, ...]] = field(default_factory=list)
    certified: list[tuple[Any, ...]] = field(default_factory=list)


def _sent(comms: _Letters, partner_id: int, episode_id: str, document: str,
          day: date) -> None:
    kind = {"evaluation_summary": "letter", "progress_note": "progress_update"}.get(
        document, document)
    words = document.replace("_", " ").capitalize()
    comms.sent.append((partner_id, episode_id, day.isoformat(), kind, "fax", words, now_iso(),
                       document, day.isoformat()))


def _letters_sent(rng: random.Random, comms: _Letters, fields: dict[str, Any],
                  partner_id: int, first: date, last: date, today: date) -> None:
    """A well-run clinic: the evaluation summary and plan of care go out within days of the
    first visit and come back signed within weeks, progress notes go out monthly; a few of the
    most recent are still owed, so the queue shows what a real Monday looks like."""
    sent = first + timedelta(days=rng.randint(1, 4))
    if sent > today or rng.random() < 0.04:
        return
    _sent(comms, partner_id, str(fields["id"]), "evaluation_summary", sent)
    certified = sent + timedelta(days=rng.randint(4, 21))
    if certified <= today and rng.random() < 0.97:
        comms.certified.append((str(fields["id"]), sent.isoformat(), certified.isoformat(),
                                rng.choice(["signed", "signed", "order_on_file"])))
    else:
        comms.certified.append((str(fields["id"]), sent.isoformat(), None, None))
    note = first + timedelta(days=30 - rng.randint(0, 4))
    while note <= last and note <= today and rng.random() < 0.97:
        _sent(comms, partner_id, str(fields["id"]), "progress_note", note)
        note += timedelta(days=30 - rng.randint(0, 4))


def is_demo(db: Database) -> bool:
    return bool(settings.get_all(db).get(DEMO_KEY))


def holds_real_data(db: Database) -> bool:
    """True when the database has partners and is not a demo: ``demo --reset`` must not touch it."""
    return not is_demo(db) and bool(db.execute("SELECT count(*) FROM partners").fetchone()[0])
