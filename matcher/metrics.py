"""Prometheus metrics of the domain (matches); request and push metrics live with
their layers. Under several worker processes, set PROMETHEUS_MULTIPROC_DIR
(docs/operations.md) so /metrics aggregates all workers."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MATCH_SECONDS = Histogram(
    "jotr_match_seconds",
    "Time to find matches for one seeker at one place (geo query + scoring).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
CANDIDATES_SCORED = Counter("jotr_match_candidates_scored_total", "Candidate vacancies scored.")
MATCHES_RETURNED = Counter("jotr_matches_returned_total", "Matches returned to a caller.")
UNUSABLE_VACANCY_ROWS = Counter(
    "jotr_unusable_vacancy_rows_total",
    "Stored vacancy rows the hot path skipped or clamped (bad values written around the API).",
    ["column"],
)
CVR_REGISTER_LOOKUPS = Counter(
    "jotr_cvr_register_lookups_total",
    "CVR register lookups for new employers, by outcome (verified, not_verified, unavailable).",
    ["outcome"],
)
VACANCY_REPORTS = Counter(
    "jotr_vacancy_reports_total",
    "Reports of vacancies by seekers (first reports only).",
    ["reason"],
)

# The per-worker replica of open vacancies (matcher/matching/replica.py).
REPLICA_ROWS = Gauge(
    "jotr_replica_rows", "Open vacancies held by the replica.", multiprocess_mode="livemax"
)
REPLICA_LAST_SYNC = Gauge(
    "jotr_replica_last_sync_timestamp_seconds",
    "When the replica last caught up with the database (the oldest of the live workers).",
    multiprocess_mode="livemin",
)
REPLICA_LAG_CHANGES = Gauge(
    "jotr_replica_lag_changes",
    "Vacancy changes the last sync found unapplied (how far behind the replica was).",
    multiprocess_mode="livemax",
)
REPLICA_CHANGES = Counter("jotr_replica_changes_total", "Vacancy changes applied to the replica.")
REPLICA_SYNC_SECONDS = Histogram(
    "jotr_replica_sync_seconds",
    "Time of one replica sync (read the new change numbers, fetch and apply the rows).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
REPLICA_LOAD_SECONDS = Histogram(
    "jotr_replica_load_seconds",
    "Time to load the replica of open vacancies.",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
)
