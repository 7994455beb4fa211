"""A vacancy's work profile inferred from its occupation, for imported ads.

Jobnet ads say nothing about teamwork, customers or early starts, so the
importer fills the vacancy's work profile (matcher/profile.py) from its ESCO
occupation's ISCO-08 code. The table is **ours**, written for this project on
2026-12-03 from the ISCO-08 group definitions (ILO, "International Standard
Classification of Occupations 2008", structure and group definitions) and
common sense about the first jobs young people take; it is not an official or
measured mapping. It only says what an ISCO group makes likely; everything it
cannot say stays neutral (0.5) and counts for nothing in the score (the profile
part compares dimensions where both sides lean, scoring.py).

Rows by ISCO prefix: the major group (1 digit), then a minor group (3 digits)
or unit group (4) where young people's jobs differ from their major group, the
more specific row overriding the dimensions it names. Values are the six
work-style dimensions and the RIASEC interest most typical of the group; a
dimension not named is neutral.
"""

from __future__ import annotations

from collections.abc import Mapping

from matcher import profile

SOURCE = "ours (jotr, 2026-12-03), from the ISCO-08 group definitions; not an official mapping"

_L, _H = 0.25, 0.75  # leaning low / high: a likely trait, not a certain one

TABLE: Mapping[str, Mapping[str, float]] = {
    # Major groups
    "1": {"enterprising": _H, "teamwork": _H, "variety": _H},  # managers
    "2": {"investigative": _H, "physical_work": _L},  # professionals
    "3": {"investigative": _H, "physical_work": _L},  # technicians, associate professionals
    "4": {"conventional": _H, "physical_work": _L, "variety": _L},  # clerical support
    "5": {
        "social": _H,
        "customer_contact": _H,
        "physical_work": _H,
        "late_hours": _H,
    },  # service, sales
    "6": {
        "realistic": _H,
        "physical_work": _H,
        "customer_contact": _L,
        "early_hours": _H,
    },  # agriculture
    "7": {"realistic": _H, "physical_work": _H, "customer_contact": _L},  # craft and trades
    "8": {"realistic": _H, "physical_work": _H, "customer_contact": _L, "variety": _L},  # operators
    "9": {"realistic": _H, "physical_work": _H, "variety": _L},  # elementary occupations
    # Where young people's first jobs differ from their major group
    "512": {"teamwork": _H, "early_hours": _H, "customer_contact": _L},  # cooks
    "513": {"teamwork": _H, "late_hours": _H},  # waiters and bartenders
    "522": {"enterprising": _H, "conventional": _H},  # shop salespersons
    "523": {"conventional": _H, "variety": _L},  # cashiers
    "531": {"social": _H, "teamwork": _H},  # child care workers
    "532": {"social": _H, "teamwork": _H, "early_hours": _H},  # personal care workers
    "911": {"customer_contact": _L, "early_hours": _H, "teamwork": _L},  # cleaners
    "921": {"customer_contact": _L, "early_hours": _H},  # agricultural labourers
    "932": {"teamwork": _H, "customer_contact": _L},  # manufacturing labourers
    "933": {"customer_contact": _L, "early_hours": _H},  # transport and storage labourers
    "941": {
        "teamwork": _H,
        "late_hours": _H,
        "customer_contact": _L,
    },  # food preparation assistants
    "952": {"customer_contact": _H, "enterprising": _H},  # street vendors
    "962": {"customer_contact": _L, "early_hours": _H, "teamwork": _L},  # e.g. newspaper delivery
}


def infer(isco: str | None) -> list[float] | None:
    """The work profile for an ISCO-08 code (its prefixes in TABLE, the longest
    last), or None if no row applies."""
    code = (isco or "").strip()
    values: dict[str, float] = {}
    for n in (1, 2, 3, 4):
        if len(code) >= n and code[:n].isdigit():
            values.update(TABLE.get(code[:n], {}))
    return profile.from_mapping(values) if values else None
