"""A small phone simulator for the push tests: a real `websockets` client."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from typing import Any, Literal

import orjson
from websockets.asyncio.client import ClientConnection, connect

# Push tests get their own patches of land, 11 km apart, away from the REST tests'.
_spots = itertools.count()


def push_spot() -> tuple[float, float]:
    i = next(_spots)
    return round(55.10 + 0.10 * (i % 25), 7), round(11.60 + 0.16 * (i // 25), 7)


def new_device() -> str:
    """A device id as an app makes one: random, kept for the install's life."""
    return secrets.token_urlsafe(18)


class Phone:
    """One connection. `hello` is the server's greeting and `replayed` what it
    replayed on connect (everything this device had not acked), in order."""

    def __init__(self, ws: ClientConnection, token: str, device: str) -> None:
        self.ws = ws
        self.token = token
        self.device = device
        self.hello: dict[str, Any] = {}
        self.replayed: list[dict[str, Any]] = []

    @classmethod
    async def connect(
        cls,
        base_url: str,
        token: str,
        device: str | None = None,
        auth: Literal["header", "frame"] = "header",
        **kw: Any,
    ) -> Phone:
        device = device or new_device()
        url = base_url.replace("http://", "ws://") + "/v1/push"
        if auth == "header":
            headers = {"Authorization": f"Bearer {token}", "Jotr-Device": device}
            ws = await connect(url, additional_headers=headers, **kw)
        else:  # as a browser: no headers, the token in the first frame
            ws = await connect(url, **kw)
            await ws.send(orjson.dumps({"type": "auth", "token": token, "device": device}).decode())
        phone = cls(ws, token, device)
        phone.hello = await phone.recv()
        assert phone.hello["type"] == "hello", phone.hello
        while (msg := await phone.recv())["type"] != "resumed":
            phone.replayed.append(msg)
        assert msg["count"] == len(phone.replayed), (msg, phone.replayed)
        return phone

    async def reconnect(self, base_url: str, **kw: Any) -> Phone:
        """The same device connecting again (after a drop, or with its app restarted)."""
        return await Phone.connect(base_url, self.token, device=self.device, **kw)

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
