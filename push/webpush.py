"""Web Push sending: VAPID keys (RFC 8292) and a bounded sender (RFC 8030/8291).

`pywebpush` encrypts the payload (aes128gcm, RFC 8291), signs the VAPID JWT
(ES256; `aud` is the endpoint's origin, `exp` 12 h ahead, `sub` our contact)
and POSTs it with `requests`, which blocks. So sends run in a small thread pool
of their own (`JOTR_WEBPUSH_WORKERS`) fed by a bounded queue
(`JOTR_WEBPUSH_QUEUE`): nothing on the event loop or a request path waits for a
push service, and when the queue is full new alerts are dropped and counted
(the delivery row stays, so the app shows the match when it next opens).

A push service answering 404 or 410 says the subscription is gone: it is
deleted (push/subscriptions.py `gone`). Other failures are counted and logged
by status only: an endpoint is a capability URL and never logged.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from matcher.settings import Settings
from push import metrics
from push.subscriptions import Subscription

log = logging.getLogger("jotr.webpush")

KEY_FILE = "vapid_private.pem"
# Urgency (RFC 8030 5.3): a new job nearby is worth waking a phone for, but not
# at the cost of its battery when it is low ("normal" is delivered unless the
# phone is saving power).
URGENCY = "normal"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_private_key(value: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from PEM (PKCS#8 or SEC1) or from the base64url raw
    32-byte secret (what `web-push generate-vapid-keys` prints)."""
    value = value.strip()
    if value.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(value.encode(), password=None)
    else:
        raw = b64url_decode(value)
        if len(raw) != 32:
            raise ValueError("a raw VAPID private key is 32 bytes, base64url")
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the VAPID key must be an EC P-256 key")
    return key


def load_or_create_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    """`JOTR_VAPID_PRIVATE_KEY` if set; else the key in `JOTR_HOME`, made on the
    first start and kept (subscriptions are bound to it). Several workers may
    start at once: the file appears whole or not at all (written aside, then
    hard-linked into place, which fails if another worker was first)."""
    if settings.vapid_private_key:
        return parse_private_key(settings.vapid_private_key)
    path = Path(settings.home) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{uuid.uuid4().hex[:6]}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        try:
            os.link(tmp, path)
            log.warning("generated a VAPID key (set JOTR_VAPID_PRIVATE_KEY in production)")
        except FileExistsError:
            pass  # another worker was first; use its key
        finally:
            tmp.unlink()
    return parse_private_key(path.read_text())


def application_server_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as browsers take it (`applicationServerKey`): the
    uncompressed P-256 point, base64url without padding."""
    return b64url(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


@dataclass(frozen=True, slots=True)
class Job:
    subscription: Subscription
    payload: dict[str, Any]


# What a send came to: delivered, gone (404/410: forget the subscription), failed.
SENT, GONE, FAILED = "sent", "gone", "failed"


class WebPushSender:
    """A bounded queue of pushes, sent from a thread pool of its own."""

    def __init__(
        self,
        key: ec.EllipticCurvePrivateKey,
        settings: Settings,
        on_gone: Callable[[Subscription], Awaitable[None]],
    ) -> None:
        self.vapid = Vapid(private_key=key)
        self.subject = settings.vapid_subject
        self.ttl_s = settings.webpush_ttl_s
        self.timeout_s = settings.webpush_timeout_s
        self.workers = settings.webpush_workers
        self.on_gone = on_gone
        self._queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=settings.webpush_queue)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="webpush")
        self._local = threading.local()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._pool.shutdown(wait=False, cancel_futures=True)

    def offer(self, job: Job) -> bool:
        """Queue a push without waiting; False (and counted) if the queue is full."""
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            metrics.WEBPUSH.labels("dropped").inc()
            return False
        return True

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job = await self._queue.get()
            try:
                outcome, status = await loop.run_in_executor(self._pool, self._send, job)
                metrics.WEBPUSH.labels(outcome).inc()
                if outcome == GONE:
                    await self.on_gone(job.subscription)
                elif outcome == FAILED:
                    log.warning("web push failed", extra={"status": status})
            except Exception:
                metrics.WEBPUSH.labels(FAILED).inc()
                log.exception("web push bookkeeping failed")

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _send(self, job: Job) -> tuple[str, int | str]:
        """In a pool thread: encrypt, sign and POST one push."""
        sub = job.subscription
        info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
        try:
            webpush(
                info,
                orjson.dumps(job.payload).decode(),
                vapid_private_key=self.vapid,
                # A fresh dict each time: pywebpush fills in `aud` and `exp`.
                vapid_claims={"sub": self.subject},
                content_encoding="aes128gcm",
                timeout=self.timeout_s,
                ttl=self.ttl_s,
                headers={"Urgency": URGENCY},
                requests_session=self._session(),
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else 0
            return (GONE if status in (404, 410) else FAILED), status
        except requests.RequestException as exc:  # timeouts, refused connections
            return FAILED, type(exc).__name__  # the message would hold the endpoint
        return SENT, 201
