"""Consultants' figures over their own caseload: outcomes and fairness.

Aggregates only, each read audited (subject: the consultant's caseload) in the
same transaction, like every other consultant read.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CurrentConsultant, SessionDep
from api.schemas.feedback import (
    AreaCell,
    BandCell,
    DayCounts,
    FairnessOut,
    Histogram,
    OutcomesOut,
    VerdictStats,
)
from matcher.analytics import insights
from matcher.people import caseload

router = APIRouter(prefix="/v1/consultants/me", tags=["consultants"])

Days = Annotated[int, Query(ge=1, le=366, description="Danish calendar days, today included")]


@router.get(
    "/outcomes", response_model=OutcomesOut, summary="What happened to my caseload's matches"
)
async def my_outcomes(
    consultant: CurrentConsultant, session: SessionDep, days: Days = 30
) -> OutcomesOut:
    found = await insights.outcomes(session, consultant.id, days)
    await _audit(session, consultant.id, "insights.outcomes", days)
    return OutcomesOut(
        days=[DayCounts(**d) for d in found.days],
        score_histogram=Histogram(edges=found.edges, counts=found.counts),
        verdicts=VerdictStats(good=found.good, bad=found.bad, agreement=found.agreement),
    )


@router.get("/fairness", response_model=FairnessOut, summary="Outcomes by age band and area")
async def my_fairness(
    consultant: CurrentConsultant, session: SessionDep, days: Days = 30
) -> FairnessOut:
    bands, areas = await insights.fairness(session, consultant.id, days)
    await _audit(session, consultant.id, "insights.fairness", days)
    return FairnessOut(
        by_age_band=[
            BandCell(band=c.label or "", suppressed=c.suppressed, **c.values()) for c in bands
        ],
        by_area=[AreaCell(area=c.label, suppressed=c.suppressed, **c.values()) for c in areas],
        min_cell=insights.MIN_CELL,
    )


async def _audit(session: AsyncSession, consultant_id: uuid.UUID, action: str, days: int) -> None:
    # An aggregate read: the subject is the consultant's caseload as a whole.
    await caseload.audit(
        session, "consultant", consultant_id, action, consultant_id, {"days": days},
        subject_type="caseload",
    )  # fmt: skip
