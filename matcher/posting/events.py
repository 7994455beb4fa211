"""Domain events: what changed, announced to other processes after commit.

Services record events on the session (`emit`); the unit of work that owns the
transaction (matcher/posting/unit_of_work.py, for the API and the importer alike) hands
the closed ones to the in-transaction hooks (withdrawals) and publishes them all
after a successful commit, so a listener never hears of a row it cannot read
yet, and a rolled-back change is never announced. The domain never imports the
bus that carries them (push/bus.py).

"closed" means "left the open set": closed, expired, or hidden by reports.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

Kind = Literal["created", "updated", "closed"]
KINDS: tuple[Kind, ...] = ("created", "updated", "closed")


@dataclass(frozen=True, slots=True)
class VacancyEvent:
    vacancy_id: uuid.UUID
    kind: Kind

    def encode(self) -> str:
        return f"{self.kind}:{self.vacancy_id}"

    @classmethod
    def decode(cls, text: str) -> VacancyEvent:
        kind, _, vid = text.partition(":")
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        return cls(uuid.UUID(vid), kind)  # type: ignore[arg-type]


def emit(session: AsyncSession, event: VacancyEvent) -> None:
    session.info.setdefault("events", []).append(event)


def take(session: AsyncSession) -> list[VacancyEvent]:
    events: list[VacancyEvent] = session.info.pop("events", [])
    return events
