"""The personal work profile (personlig arbejdsprofil): a small fixed vector.

Seekers and vacancies share one layout of twelve values in [0, 1], so fit is a
plain vector comparison. The first six are the RIASEC interest dimensions
(Holland codes), the next six are work-style items a young person can answer in
a picture quiz. For a vacancy the same numbers describe the person the employer
would like ("how much customer contact is there", "are early hours needed").
"""

from __future__ import annotations

import math

import numpy as np

DIMENSIONS: tuple[str, ...] = (
    # RIASEC interests
    "realistic",  # hands-on, tools, machines, outdoors
    "investigative",  # figuring things out
    "artistic",  # creating, expressing
    "social",  # helping, teaching, caring
    "enterprising",  # persuading, selling, leading
    "conventional",  # order, routines, numbers
    # Work style
    "teamwork",  # 0 = alone, 1 = always in a team
    "customer_contact",  # 0 = none, 1 = all day with customers
    "physical_work",  # 0 = seated, 1 = on your feet, lifting
    "variety",  # 0 = same routine each day, 1 = new things all the time
    "early_hours",  # 0 = never before 8, 1 = happy to start at 5-6
    "late_hours",  # 0 = never after 18, 1 = evenings are fine
)
SIZE = len(DIMENSIONS)


def validate(values: list[float]) -> np.ndarray:
    """Return the profile as float32, or raise ValueError saying what is wrong."""
    if len(values) != SIZE:
        raise ValueError(f"work_profile must have {SIZE} values ({', '.join(DIMENSIONS)})")
    arr = np.asarray(values, dtype=np.float32)
    if not np.all(np.isfinite(arr)) or arr.min() < 0.0 or arr.max() > 1.0:
        raise ValueError("work_profile values must be numbers between 0 and 1")
    return arr


def from_mapping(values: dict[str, float]) -> list[float]:
    """Build the vector from named values; dimensions not given are neutral (0.5)."""
    unknown = set(values) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown work-profile dimensions: {', '.join(sorted(unknown))}")
    return [float(values.get(name, 0.5)) for name in DIMENSIONS]


def to_mapping(values: list[float] | None) -> dict[str, float] | None:
    """The stored profile by dimension; None when absent or unusable (a row written
    around the API with the wrong length or values outside [0, 1])."""
    if values is None:
        return None
    if len(values) != len(DIMENSIONS) or not all(
        v is not None and math.isfinite(v) and 0.0 <= v <= 1.0 for v in values
    ):
        return None
    return {name: round(float(v), 4) for name, v in zip(DIMENSIONS, values, strict=True)}
