"""Prometheus metrics of realtime push."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge("jotr_push_connections", "Open push connections.", multiprocess_mode="livesum")
PUSHES = Counter("jotr_pushes_total", "Deliveries sent live, by kind.", ["kind"])
REPLAYED = Counter("jotr_push_replayed_total", "Deliveries replayed on resume.")
LAGGARDS = Counter("jotr_push_laggards_total", "Connections dropped for a full outbox.")
REVOKED = Counter(
    "jotr_push_revoked_total", "Connections closed because their token was rotated or revoked."
)
LOCATION_SKIPPED = Counter(
    "jotr_push_locations_skipped_total", "Location updates below the movement threshold."
)
FRAMES_DROPPED = Counter(
    "jotr_push_frames_dropped_total", "Client frames dropped by the inbound rate limit."
)
REFUSED = Counter(
    "jotr_push_refused_total", "Websockets refused or closed by policy, by reason.", ["reason"]
)
BAD_FRAMES = Counter("jotr_push_bad_frames_total", "Client frames rejected.", ["code"])
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
LOCATION_SECONDS = Histogram(
    "jotr_push_location_seconds", "Location update handled (geofence + record).", buckets=_BUCKETS
)
VACANCY_FANOUT_SECONDS = Histogram(
    "jotr_push_vacancy_fanout_seconds",
    "New vacancy to connected seekers (one worker).",
    buckets=_BUCKETS,
)
CACHE_REBUILDS = Counter(
    "jotr_push_cache_rebuilds_total", "Candidate caches built (one geo query each)."
)
CACHED_CANDIDATES = Histogram(
    "jotr_push_cached_candidates",
    "Candidates kept per cache build (those that can reach the seeker's threshold).",
    buckets=(0, 5, 10, 25, 50, 100, 250, 500, 1000, 4000),
)
# The bus between workers (push/bus.py) and the catch-up that heals it (push/catchup.py).
BUS_UP = Gauge(
    "jotr_push_bus_up",
    "1 while this worker's bus listener is connected (0 if any live worker's is down).",
    multiprocess_mode="livemin",
)
BUS_RECONNECTS = Counter(
    "jotr_push_bus_reconnects_total", "Bus listener reconnects after a loss.", ["bus"]
)
BUS_DROPPED = Counter(
    "jotr_push_bus_dropped_total", "Bus messages dropped for a full queue (catch-up heals)."
)
CONSUMER_BATCH = Histogram(
    "jotr_push_consumer_batch",
    "Bus messages handled together by a worker's consumer (one batch).",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500),
)
CONSUMER_QUEUE = Gauge(
    "jotr_push_consumer_queue",
    "Bus messages waiting for a worker's consumer after it took a batch.",
    multiprocess_mode="livemax",
)
CAUGHT_UP = Counter(
    "jotr_push_caught_up_total",
    "Changes found by catch-up that no bus message had brought: vacancy changes, deliveries.",
    ["kind"],
)
# Web Push (push/webpush.py, push/offline.py): alerts while the app is closed.
WEBPUSH = Counter(
    "jotr_webpush_total",
    "Web Push sends by outcome: sent, gone (404/410, subscription removed), failed, dropped.",
    ["outcome"],
)
WEBPUSH_MATCHES = Counter(
    "jotr_webpush_matches_total", "Matches recorded for people with the app closed."
)
