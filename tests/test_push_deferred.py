"""Push allowance end to end (push/allowance.py through push/hub.py): a real
server, real websockets, real PostGIS. Matches over the allowance are deferred,
not dropped, and go out as it refills while the phone stands still."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.builders import birth_date_for_age, new_employer, new_seeker, new_vacancy, occupation
from tests.conftest import ServerProcess
from tests.push_client import Phone, push_spot
from tests.test_api_vacancies import offset

PER = 6
WINDOW_S = 6.0  # 6 a "minute" of 6 s: one token a second, so the test is short
REFILL_S = WINDOW_S / PER


@pytest.fixture(scope="module")
def fast_server(database_url: str, esco_loaded: object) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        database_url,
        env={"JOTR_PUSH_PER_MINUTE": str(PER), "JOTR_PUSH_ALLOWANCE_WINDOW_S": str(WINDOW_S)},
    )
    srv.start()
    yield srv
    srv.stop()


async def frames_until(phone: Phone, want: int, deadline_s: float) -> list[tuple[float, dict]]:
    """(arrival time, frame) until `want` matches arrived or the deadline passed."""
    got: list[tuple[float, dict[str, Any]]] = []
    end = time.monotonic() + deadline_s
    while sum(1 for _, f in got if f["type"] == "match") < want:
        left = end - time.monotonic()
        if left <= 0:
            break
        try:
            got.append((time.monotonic(), await phone.recv(left)))
        except TimeoutError:
            break
    return got


async def test_a_new_job_after_the_sign_up_burst_arrives_while_standing_still(
    fast_server: ServerProcess,
) -> None:
    async with httpx.AsyncClient(base_url=fast_server.base_url, timeout=10.0) as api:
        lat, lon = push_spot()
        emp = await new_employer(api)
        # Eight good jobs around the spot: more than the allowance's burst.
        for i in range(8):
            await new_vacancy(
                api, emp["api_key"], *offset(lat, lon, 100 + 40 * i, 45 * i), walk_in=False,
                title=f"Job {i}",
            )  # fmt: skip
        s = await new_seeker(
            api, birth_date=birth_date_for_age(19),
            skills=list(occupation("barista")["essential"][:3]), preferences={"radius_m": 800},
        )  # fmt: skip
        phone = await Phone.connect(fast_server.base_url, s["token"])
        started = time.monotonic()
        await phone.move(lat, lon)  # the only location this phone ever sends

        burst = await frames_until(phone, PER, deadline_s=10)
        kinds = [f["type"] for _, f in burst]
        # The sign-up batch is announced once, ahead of its matches.
        assert kinds == ["batch"] + ["match"] * PER, kinds
        batch = burst[0][1]
        seqs = [f["seq"] for _, f in burst[1:]]
        assert batch["count"] == PER and (batch["from_seq"], batch["to_seq"]) == (seqs[0], seqs[-1])
        scores = [f["score"] for _, f in burst[1:]]
        assert scores == sorted(scores, reverse=True)  # best first

        # The allowance is spent; a new job appears 150 m away.
        new = await new_vacancy(
            api, emp["api_key"], *offset(lat, lon, 150, 200), walk_in=False, title="New"
        )
        posted = time.monotonic()
        # Standing still: the two deferred jobs and the new one all come, one per
        # refill, with no location frame from the phone and no second batch frame.
        rest = await frames_until(phone, 3, deadline_s=3 * REFILL_S + 10)
        rest_matches = [(t, f) for t, f in rest if f["type"] == "match"]
        assert [f["type"] for _, f in rest] == ["match"] * 3, rest
        ids = [f["vacancy"]["id"] for _, f in rest_matches]
        assert new["id"] in ids
        new_at = next(t for t, f in rest_matches if f["vacancy"]["id"] == new["id"])
        # Within the refill time of the three waiting (the new one may rank anywhere).
        assert new_at - posted <= 3 * REFILL_S + 3.0
        # Never faster than the allowance: at most PER + what refilled meanwhile.
        n_total = PER + 3
        elapsed = rest_matches[-1][0] - started
        assert n_total <= PER + elapsed / REFILL_S + 1
        assert len({f["vacancy"]["id"] for _, f in burst[1:] + rest_matches}) == n_total
        # And nothing more: every eligible job was pushed once.
        assert [f for f in await phone.drain(quiet=REFILL_S * 2) if f["type"] == "match"] == []
        await phone.close()
