"""Skills and occupation from an ad's text: ESCO suggestions for the employer page
and the Jobnet importer."""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import APIRouter, Depends, Request

from api import ratelimit
from api.schemas.extract import ExtractRequest, ExtractResponse, SuggestionOut
from matcher.extraction.extract import Extractor

router = APIRouter(prefix="/v1", tags=["extraction"])
log = logging.getLogger("jotr.extract")


async def get_extractor(request: Request) -> Extractor:
    """The process's Extractor, built on first use (~2-4 s) so startup stays fast.

    One lock per app: concurrent first requests wait for one build instead of
    each starting their own. The CPU-bound build runs in a thread, so the event
    loop (websockets, health checks) keeps going meanwhile.
    """
    state = request.app.state
    extractor: Extractor | None = getattr(state, "extractor", None)
    if extractor is not None:
        return extractor
    if getattr(state, "extractor_lock", None) is None:
        state.extractor_lock = asyncio.Lock()
    async with state.extractor_lock:
        extractor = getattr(state, "extractor", None)
        if extractor is None:
            started = time.perf_counter()
            async with state.sessionmaker() as session:
                extractor = await Extractor.from_database(session)
            state.extractor = extractor
            log.info(
                "extractor built",
                extra={
                    "seconds": round(time.perf_counter() - started, 2),
                    "occupations": extractor.n_occupations,
                    "skills": extractor.n_skills,
                },
            )
    return extractor


@router.post(
    "/extract",
    response_model=ExtractResponse,
    summary="Suggest the ESCO occupation and skills for an ad's title and text",
    dependencies=[Depends(ratelimit.per_ip("extract"))],
)
async def extract(body: ExtractRequest, request: Request) -> ExtractResponse:
    extractor = await get_extractor(request)
    # ~5-15 ms of NumPy/SciPy: off the event loop, like any CPU-bound step.
    found = await asyncio.to_thread(
        extractor.extract, body.title, body.text, body.lang, body.top_occupations, body.top_skills
    )
    return ExtractResponse(
        occupations=[SuggestionOut(**vars(s)) for s in found.occupations],
        skills=[SuggestionOut(**vars(s)) for s in found.skills],
    )
