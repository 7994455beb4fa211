"""Which vacancy change numbers a worker has applied, with a lookback.

Every insert or update of a vacancy takes the next number from
`vacancy_change_no_seq` in its own transaction (a trigger, migration 0008), and
so does every delete (the deletion log, migration 0019). A reader remembers
which numbers it has applied and reads `change_no > floor ORDER BY change_no`,
applying the ones it has not. Numbers are taken at write time but become
visible at commit, so a slow transaction can commit a number below one already
seen; the log keeps every applied number for `LOOKBACK_S` and only then raises
the floor past it, so such a change is still found as long as its transaction
took less than that.

Two readers use it: the push hub's catch-up (push/catchup.py) and the replica
of open vacancies (matcher/matching/replica.py).
"""

from __future__ import annotations

import time

# How long an applied change number is remembered before the floor passes it.
LOOKBACK_S = 60.0


class ChangeLog:
    """The vacancy changes this reader has applied (see the module docstring)."""

    def __init__(self) -> None:
        self.floor: int | None = None  # None until read from the database
        self._applied: dict[int, float] = {}

    def claim(self, change_no: int | None, now: float | None = None) -> bool:
        """True if the change is new here (and now counts as applied)."""
        if change_no is None:
            return True
        if change_no in self._applied:
            return False
        self._applied[change_no] = time.monotonic() if now is None else now
        return True

    def release(self, change_no: int | None) -> None:
        """Applying it failed: let the next catch-up try again."""
        if change_no is not None:
            self._applied.pop(change_no, None)

    def prune(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        old = [n for n, at in self._applied.items() if now - at > LOOKBACK_S]
        for n in old:
            del self._applied[n]
        if old and self.floor is not None:
            self.floor = max(self.floor, *old)

    def __len__(self) -> int:
        return len(self._applied)
