"""Pay on a vacancy: the `vacancies.pay` JSON, checked where it enters.

    {"kind": "hourly", "dkk": 130}
    {"kind": "range", "min_dkk": 120, "max_dkk": 150}
    {"kind": "agreement"}                                  ("efter overenskomst")

Amounts are Danish kroner an hour. The bounds catch slips (a monthly wage typed as
hourly, a missing decimal point), not low pay: youth wages start near 60 kr.
"""

from __future__ import annotations

import math
from typing import Any

MIN_DKK = 1.0
MAX_DKK = 2000.0
KINDS = ("hourly", "range", "agreement")


class BadPay(ValueError):
    pass


def _amount(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadPay(f"pay.{name} must be a number")
    if not MIN_DKK <= value <= MAX_DKK:
        raise BadPay(f"pay.{name} must be between {MIN_DKK:g} and {MAX_DKK:g} kr. an hour")
    return round(float(value), 2)


def check(value: Any) -> dict[str, Any] | None:
    """The pay object as stored, or BadPay naming what is wrong."""
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("kind") not in KINDS:
        raise BadPay(f"pay.kind must be one of {', '.join(KINDS)}")
    kind = value["kind"]
    keys = {"hourly": {"kind", "dkk"}, "range": {"kind", "min_dkk", "max_dkk"}}.get(kind, {"kind"})
    if set(value) != keys:
        raise BadPay(f"pay of kind {kind} has exactly: {', '.join(sorted(keys))}")
    if kind == "hourly":
        return {"kind": kind, "dkk": _amount(value["dkk"], "dkk")}
    if kind == "range":
        lo, hi = _amount(value["min_dkk"], "min_dkk"), _amount(value["max_dkk"], "max_dkk")
        if lo > hi:
            raise BadPay("pay.min_dkk must not be above pay.max_dkk")
        return {"kind": kind, "min_dkk": lo, "max_dkk": hi}
    return {"kind": kind}


def label(pay: dict[str, Any] | None, lang: str) -> str | None:
    """Pay in plain words ("130 kr./time"), for pages rendered on the server."""
    if not pay:
        return None
    unit = "kr./time" if lang == "da" else "DKK/hour"
    if pay.get("kind") == "hourly":
        return f"{pay['dkk']:g} {unit}"
    if pay.get("kind") == "range":
        return f"{pay['min_dkk']:g}–{pay['max_dkk']:g} {unit}"
    return "Efter overenskomst" if lang == "da" else "By collective agreement"
