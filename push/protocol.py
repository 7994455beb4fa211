"""The push protocol, version 1, without any I/O (docs/push-protocol.md).

`parse` turns one client frame into a typed message or raises `ProtocolError`;
the `*_message` functions build server frames. The websocket adapter in
api/routers/push.py only moves bytes, so all of this is tested without sockets.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

import orjson

VERSION = 1
MAX_FRAME_BYTES = 4096
# A device id is the client's own random id, kept across restarts of the app
# (e.g. a UUID or 16+ random bytes in base64url). It names a device, never a person.
DEVICE_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class ProtocolError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float
    accuracy_m: float | None


@dataclass(frozen=True, slots=True)
class Ack:
    seq: int


@dataclass(frozen=True, slots=True)
class Resume:
    after_seq: int


@dataclass(frozen=True, slots=True)
class Settings:
    """Only the keys the client sent are set; `UNSET` marks the others."""

    radius_m: float | object | None
    paused: bool | object
    min_score: float | object
    quiet_from: dt.time | object | None
    quiet_until: dt.time | object | None


@dataclass(frozen=True, slots=True)
class Auth:
    """The first frame of a browser, which cannot set headers on a websocket."""

    token: str
    device: str


UNSET: Any = object()
ClientMessage = Location | Ack | Resume | Settings

_MAX_SEQ = 2**62


def _number(body: dict[str, Any], key: str, lo: float, hi: float) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError("invalid", f"{key} must be a number")
    if not lo <= value <= hi:
        raise ProtocolError("invalid", f"{key} must be between {lo:g} and {hi:g}")
    return float(value)


def _seq(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_SEQ:
        raise ProtocolError("invalid", f"{key} must be a non-negative integer")
    return value


def _time(value: Any, key: str) -> dt.time:
    if isinstance(value, str) and len(value) == 5:
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            pass
    raise ProtocolError("invalid", f"{key} must be a time of day as HH:MM")


def device(value: Any) -> str:
    if not isinstance(value, str) or DEVICE_RE.fullmatch(value) is None:
        raise ProtocolError(
            "invalid", "device must be 16-64 characters of A-Z, a-z, 0-9, '_' or '-'"
        )
    return value


def _object(frame: str | bytes) -> dict[str, Any]:
    if len(frame) > MAX_FRAME_BYTES:
        raise ProtocolError("too_large", f"messages are at most {MAX_FRAME_BYTES} bytes")
    try:
        body = orjson.loads(frame)
    except orjson.JSONDecodeError:
        raise ProtocolError("malformed", "message is not valid JSON") from None
    if not isinstance(body, dict):
        raise ProtocolError("malformed", "message must be a JSON object")
    return body


def parse_auth(frame: str | bytes) -> Auth:
    """`{"type": "auth", "token": "jotr_js_…", "device": "…"}`, the only frame
    accepted before a connection without an Authorization header is authenticated."""
    body = _object(frame)
    if body.get("type") != "auth":
        raise ProtocolError("unauthenticated", "the first message must be an auth message")
    token = body.get("token")
    if not isinstance(token, str) or not token or len(token) > 200:
        raise ProtocolError("invalid", "token must be a non-empty string")
    return Auth(token=token, device=device(body.get("device")))


def parse(frame: str | bytes, max_radius_m: float) -> ClientMessage:
    body = _object(frame)
    kind = body.get("type")
    if kind == "location":
        acc = body.get("accuracy_m")
        return Location(
            lat=round(_number(body, "lat", -90, 90), 7),
            lon=round(_number(body, "lon", -180, 180), 7),
            accuracy_m=None if acc is None else _number(body, "accuracy_m", 0, 100_000),
        )
    if kind == "ack":
        return Ack(_seq(body, "seq"))
    if kind == "resume":
        return Resume(_seq(body, "after_seq"))
    if kind == "settings":
        return _settings(body, max_radius_m)
    raise ProtocolError("unknown_type", f"unknown message type {kind!r}")


def _settings(body: dict[str, Any], max_radius_m: float) -> Settings:
    allowed = {"type", "radius_m", "paused", "min_score", "quiet_hours"}
    extra = set(body) - allowed
    if extra:
        raise ProtocolError("invalid", f"unknown settings: {', '.join(sorted(extra))}")
    radius: Any = UNSET
    if "radius_m" in body:
        radius = _number(body, "radius_m", 1, max_radius_m)
    paused: Any = UNSET
    if "paused" in body:
        if not isinstance(body["paused"], bool):
            raise ProtocolError("invalid", "paused must be true or false")
        paused = body["paused"]
    min_score: Any = UNSET
    if "min_score" in body:
        min_score = _number(body, "min_score", 0, 1)
    quiet_from: Any = UNSET
    quiet_until: Any = UNSET
    if "quiet_hours" in body:
        q = body["quiet_hours"]
        if q is None:
            quiet_from = quiet_until = None
        elif isinstance(q, dict) and set(q) == {"from", "until"}:
            quiet_from, quiet_until = (
                _time(q["from"], "quiet_hours.from"),
                _time(q["until"], "quiet_hours.until"),
            )
        else:
            raise ProtocolError(
                "invalid", 'quiet_hours must be null or {"from": "HH:MM", "until": "HH:MM"}'
            )
    return Settings(radius, paused, min_score, quiet_from, quiet_until)


def encode(message: dict[str, Any]) -> bytes:
    return orjson.dumps(message)


def hello_message(device_id: str, last_seq: int, acked_seq: int, settings: dict[str, Any]) -> bytes:
    return encode(
        {"type": "hello", "protocol": VERSION, "device": device_id, "last_seq": last_seq,
         "acked_seq": acked_seq, "settings": settings}
    )  # fmt: skip


def batch_message(count: int, from_seq: int, to_seq: int) -> bytes:
    """Announces the `match` frames from_seq..to_seq that follow as one batch
    (the first pushes after connecting): one notification, not `count`."""
    return encode({"type": "batch", "count": count, "from_seq": from_seq, "to_seq": to_seq})


def error_message(code: str, message: str) -> bytes:
    return encode({"type": "error", "code": code, "message": message})


def with_seq(seq: int, payload: dict[str, Any]) -> bytes:
    """A stored delivery as a frame: `seq` first, then the stored body."""
    return encode({"seq": seq, **payload})
