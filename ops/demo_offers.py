"""Demo leisure and volunteering offers in Aarhus (issue #15, part 3).

A handful of invented foreninger, clubs and a volunteer centre, each with one
offer at a real Aarhus postcode, so the demo shows offers beyond jobs to a
seeker who opts in. They carry `source_ref = 'demo:offer-NN'` (not `demo-`, so
the demo's job figures are unchanged) and are replaced with the rest of the demo.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from ops.demo_catalogue import Place

OFFER_REF = "demo:offer-"

# (organisation, org_kind, kind, title, text, postcode, min_age, max_age, cost_dkk,
#  cost_note, schedule, volunteering_is_work, hours_per_week)
OFFERS: tuple[tuple[Any, ...], ...] = (
    ("Ungdomsklubben Frederiksbjerg", "club", "leisure", "Ungdomsklub: gaming og brætspil",
     "Kom og spil med andre unge. Bare mød op.", "8000", 13, 17, 0, None,
     [{"days": ["tue", "thu"], "start": "18:00", "end": "21:00"}], False, None),
    ("Viby Klatreklub", "association", "leisure", "Klatring for unge",
     "Lær at klatre på vores væg. Udstyr kan lånes.", "8260", 13, 19, 450, "per sæson",
     [{"days": ["wed"], "start": "17:00", "end": "19:00"}], False, 2),
    ("Brabrand Boldklub", "association", "leisure", "Streetfodbold om aftenen",
     "Uformel fodbold for alle niveauer.", "8220", 13, 25, 0, None,
     [{"days": ["mon"], "start": "19:00", "end": "21:00"}], False, None),
    ("Frivilligcenter Aarhus", "volunteer_centre", "volunteering", "Lektiecafé: hjælp yngre elever",
     "Hjælp børn i 4.-7. klasse med lektier. Vi lærer dig op.", "8200", 15, None, None, None,
     [{"days": ["tue"], "start": "15:00", "end": "17:00"}], True, 2),
    ("Genbrugsbutikken Trøjborg", "association", "volunteering", "Frivillig i genbrugsbutik",
     "Sortér tøj og hjælp i butikken på faste vagter.", "8000", 15, None, None, None,
     [{"days": ["sat"], "start": "10:00", "end": "14:00"}], True, 4),
    ("Spejderne i Risskov", "club", "volunteering", "Hjælpeleder hos de små spejdere",
     "Vær med til at lave aktiviteter for 8-10-årige.", "8240", 15, 29, None, None,
     [{"days": ["wed"], "start": "17:30", "end": "19:00"}], False, None),
)  # fmt: skip

_INSERT = """
INSERT INTO vacancies (
    id, employer_id, source, source_ref, title, description, location, address, kind,
    job_type, hours_per_week, min_age, max_age, cost_dkk, cost_note, schedule,
    volunteering_is_work, start_date, expires_at, status
) VALUES (
    %(id)s, %(employer_id)s, 'api', %(source_ref)s, %(title)s, %(description)s,
    ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(address)s, %(kind)s,
    NULL, %(hours_per_week)s, %(min_age)s, %(max_age)s, %(cost_dkk)s, %(cost_note)s,
    %(schedule)s, %(volunteering_is_work)s, %(start_date)s, %(expires_at)s, 'open'
)
"""


def delete_offers(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "DELETE FROM employers WHERE id IN "
        "(SELECT employer_id FROM vacancies WHERE source_ref LIKE %s)",
        (OFFER_REF + "%",),
    )


def insert_offers(
    conn: psycopg.Connection[Any],
    rng: np.random.Generator,
    places: dict[str, list[Place]],
    now: dt.datetime,
    new_key_hash: Any,
) -> int:
    """The demo offers, their organisations first; returns how many."""
    n = 0
    with conn.cursor() as cur:
        for i, (
            org,
            org_kind,
            kind,
            title,
            text,
            code,
            lo,
            hi,
            cost,
            note,
            sched,
            work,
            hours,
        ) in enumerate(OFFERS):
            if code not in places:
                continue
            place = places[code][0]
            employer_id = uuid.UUID(bytes=rng.bytes(16), version=4)
            cur.execute(
                "INSERT INTO employers (id, name, api_key_hash, org_kind) VALUES (%s, %s, %s, %s)",
                (employer_id, org, new_key_hash(), org_kind),
            )
            cur.execute(
                _INSERT,
                {
                    "id": uuid.UUID(bytes=rng.bytes(16), version=4),
                    "employer_id": employer_id,
                    "source_ref": f"{OFFER_REF}{i + 1:02d}",
                    "title": title,
                    "description": text,
                    # A little off the postcode's point, so offers do not sit on the jobs there.
                    "lat": round(place.lat + float(rng.uniform(-0.003, 0.003)), 6),
                    "lon": round(place.lon + float(rng.uniform(-0.005, 0.005)), 6),
                    "address": f"{place.postcode} {place.locality}",
                    "kind": kind,
                    "hours_per_week": hours,
                    "min_age": lo,
                    "max_age": hi,
                    "cost_dkk": cost,
                    "cost_note": note,
                    "schedule": Jsonb(sched),
                    "volunteering_is_work": work,
                    "start_date": now.date(),
                    "expires_at": now + dt.timedelta(days=60),
                },
            )
            n += 1
    return n
