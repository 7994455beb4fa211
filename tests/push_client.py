"""A small phone simulator for the push tests: a real `websockets` client."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

# Push tests get their own patches of land, 11 km apart, away from the REST tests'.
_spots = itertools.count()


def push_spot() -> tuple[float, float]:
    i = next(_spots)
    return round(55.10 + 0.10 * (i % 25), 7), round(11.60 + 0.16 * (i // 25), 7)


class Phone:
    def __init__(self, ws: ClientConnection, token: str) -> None:
        self.ws = ws
        self.token = token
        self.hello: dict[str, Any] = {}

    @classmethod
    async def connect(cls, base_url: str, token: str, **kw: Any) -> Phone:
        url = base_url.replace("http://", "ws://") + "/v1/push"
        ws = await connect(url, additional_headers={"Authorization": f"Bearer {token}"}, **kw)
        phone = cls(ws, token)
        phone.hello = await phone.recv()
        assert phone.hello["type"] == "hello", phone.hello
        return phone

    async def send(self, **message: Any) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    async def move(self, lat: float, lon: float, accuracy_m: float = 10.0) -> None:
        await self.send(type="location", lat=lat, lon=lon, accuracy_m=accuracy_m)

    async def recv(self, within: float = 5.0) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.ws.recv(), within)
        return orjson.loads(frame)  # type: ignore[no-any-return]

    async def drain(self, quiet: float = 1.0) -> list[dict[str, Any]]:
        """Everything that arrives until the line is quiet for `quiet` seconds."""
        out = []
        while True:
            try:
                out.append(await self.recv(quiet))
            except TimeoutError:
                return out

    async def wait_for(self, kind: str, within: float = 5.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            left = deadline - asyncio.get_running_loop().time()
            msg = await self.recv(max(0.05, left))
            if msg["type"] == kind:
                return msg

    async def close(self) -> None:
        await self.ws.close()
