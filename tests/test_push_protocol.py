"""The sans-I/O parts of push: frame parsing and the small rules."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from push import protocol as p
from push.allowance import Allowance
from push.rules import haversine_m, open_now


def parse(obj: object) -> p.ClientMessage:
    return p.parse(orjson.dumps(obj), max_radius_m=50_000)


def test_parses_each_message_type() -> None:
    loc = parse({"type": "location", "lat": 56.1535001234, "lon": 10.2039, "accuracy_m": 8})
    assert loc == p.Location(56.1535001, 10.2039, 8.0)
    assert parse({"type": "location", "lat": 1, "lon": 2}) == p.Location(1.0, 2.0, None)
    assert parse({"type": "ack", "seq": 7}) == p.Ack(7)
    assert parse({"type": "resume", "after_seq": 0}) == p.Resume(0)
    s = parse(
        {"type": "settings", "paused": True, "quiet_hours": {"from": "22:00", "until": "07:00"}}
    )
    assert isinstance(s, p.Settings)
    assert s.paused is True and s.radius_m is p.UNSET
    assert (s.quiet_from, s.quiet_until) == (dt.time(22), dt.time(7))
    cleared = parse({"type": "settings", "quiet_hours": None})
    assert isinstance(cleared, p.Settings) and cleared.quiet_from is None


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"not json", "malformed"),
        (b"[1, 2]", "malformed"),
        (b'{"type": "dance"}', "unknown_type"),
        (b'{"lat": 1}', "unknown_type"),
        (b'{"type": "location", "lat": 91, "lon": 0}', "invalid"),
        (b'{"type": "location", "lat": "56", "lon": 0}', "invalid"),
        (b'{"type": "location", "lat": true, "lon": 0}', "invalid"),
        (b'{"type": "location", "lat": 56}', "invalid"),
        (b'{"type": "location", "lat": 56, "lon": 10, "accuracy_m": -1}', "invalid"),
        (b'{"type": "ack", "seq": -1}', "invalid"),
        (b'{"type": "ack", "seq": 1.5}', "invalid"),
        (b'{"type": "resume"}', "invalid"),
        (b'{"type": "settings", "radius_m": 0}', "invalid"),
        (b'{"type": "settings", "radius_m": 60000}', "invalid"),
        (b'{"type": "settings", "paused": "yes"}', "invalid"),
        (b'{"type": "settings", "volume": 11}', "invalid"),
        (b'{"type": "settings", "quiet_hours": {"from": "25:00", "until": "07:00"}}', "invalid"),
        (b'{"type": "settings", "quiet_hours": "night"}', "invalid"),
        (b"{" + b" " * 5000 + b"}", "too_large"),
    ],
)
def test_rejects_bad_frames_with_a_reason(frame: bytes, code: str) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.parse(frame, max_radius_m=50_000)
    assert info.value.code == code and info.value.message


def test_frames_put_seq_first() -> None:
    assert p.with_seq(3, {"type": "withdrawn", "vacancy_id": "x"}) == (
        b'{"seq":3,"type":"withdrawn","vacancy_id":"x"}'
    )


def test_token_bucket_bursts_then_refills() -> None:
    bucket: Allowance[int] = Allowance(6)
    assert bucket.available(100.0) == 6
    bucket.take(6)
    assert bucket.available(100.0) == 0
    assert bucket.available(110.0) == 1  # 10 s at 6 a minute
    assert bucket.available(1000.0) == 6  # never more than a minute's worth


def test_haversine_is_close_to_the_geodesic() -> None:
    # Two points in central Aarhus, about 370 m apart.
    d = haversine_m(56.1535, 10.2039, 56.1502, 10.2046)
    assert 360 < d < 380


def test_open_now_reads_local_opening_hours() -> None:
    hours = {"mon": [["09:00", "17:30"]]}
    monday_10_local = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # 10:00 in Copenhagen
    assert open_now(hours, monday_10_local)
    assert not open_now(hours, monday_10_local + dt.timedelta(hours=8))
    assert not open_now(hours, monday_10_local + dt.timedelta(days=1))
    assert not open_now(None, monday_10_local)


def test_auth_frame_and_device_ids() -> None:
    frame = orjson.dumps({"type": "auth", "token": "jotr_js_x", "device": "a" * 16})
    assert p.parse_auth(frame) == p.Auth("jotr_js_x", "a" * 16)
    for body, code in [
        ({"type": "location", "lat": 1, "lon": 2}, "unauthenticated"),
        ({"type": "auth", "token": "", "device": "a" * 16}, "invalid"),
        ({"type": "auth", "token": "jotr_js_x"}, "invalid"),
        ({"type": "auth", "token": "jotr_js_x", "device": "a" * 15}, "invalid"),
        ({"type": "auth", "token": "jotr_js_x", "device": "a" * 65}, "invalid"),
        ({"type": "auth", "token": "jotr_js_x", "device": "a b" * 8}, "invalid"),
    ]:
        with pytest.raises(p.ProtocolError) as info:
            p.parse_auth(orjson.dumps(body))
        assert info.value.code == code, body
    assert (
        p.device("3f0c9a1e-5b7d-4c2a-9e1f-0a1b2c3d4e5f") == "3f0c9a1e-5b7d-4c2a-9e1f-0a1b2c3d4e5f"
    )


def test_frame_limiter_drops_past_the_burst_and_flags_a_flood() -> None:
    from push.rules import FrameLimiter

    lim = FrameLimiter(per_s=10, burst=20, flood_s=5)
    assert sum(lim.admit(100.0) for _ in range(3000)) == 20
    assert lim.flooded  # 2,980 dropped at once: far past 10/s for 5 s
    calm = FrameLimiter(per_s=10, burst=20, flood_s=5)
    # Eight frames a second for a minute: never dropped.
    assert all(calm.admit(100.0 + i / 8) for i in range(480)) and not calm.flooded
    # Twice the rate: half dropped, and after about five seconds it is a flood;
    # a little over the rate only loses the excess.
    fast = FrameLimiter(per_s=10, burst=20, flood_s=5)
    t = 0.0
    while not fast.flooded:
        fast.admit(t)
        t += 1 / 20
        assert t < 20
    assert 4 <= t <= 7
    slightly = FrameLimiter(per_s=10, burst=20, flood_s=5)
    admitted = sum(slightly.admit(i / 12) for i in range(12 * 60))
    assert not slightly.flooded and 600 <= admitted <= 625


def test_a_connection_sends_in_seq_order_and_holds_what_is_above_a_gap() -> None:
    import asyncio
    import uuid

    from push.connection import Connection

    conn = Connection(uuid.uuid4(), asyncio.Queue(maxsize=16), Allowance(6))
    conn.deliver(5, b"5")  # before hello: held
    conn.live, conn.cursor = True, 3
    conn.drain_held()
    assert conn.outbox.empty() and conn.behind  # 4 is missing: read it from the database
    conn.filling = True
    conn.deliver(6, b"6")
    conn.outbox.put_nowait(b"4")  # what the fill read
    conn.cursor, conn.filling = 4, False
    conn.drain_held()
    conn.deliver(6, b"6")  # a repeat (a doorbell after a local send)
    conn.deliver(3, b"3")  # acked already
    conn.deliver(7, b"7")
    assert [conn.outbox.get_nowait() for _ in range(conn.outbox.qsize())] == [
        b"4",
        b"5",
        b"6",
        b"7",
    ]
    assert not conn.behind and conn.held == {}
