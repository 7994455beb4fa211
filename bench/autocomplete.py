"""Autocomplete benchmark: p50/p99 per keystroke over the full taxonomy, two baselines.

    python -m bench.autocomplete --keep                 # builds jotr_bench_ac (~20 s)
    python -m bench.autocomplete --reuse --write-docs

Data: ESCO v1.2.0 English + Danish occupation labels from ../shared/data (the
importer the product uses), plus our easy-Danish skill vocabulary that every
import writes (matcher/esco/youth_vocab.py). Queries: what people type: 1-8 letters of
a real label (preferred, alternative or hidden; Danish and English occupations,
English skills, Danish skills from the vocabulary), one in seven with a typo (a
letter dropped, doubled, swapped or replaced, never the first), the limit the
app uses (10).

Timed: `LabelIndex.search`, the whole work of the route (the index is in memory).
Baselines in the same run, on the same queries:
* `ILIKE '%q%'` over `concept_labels` joined to the active concepts, shortest
  first: what one writes without thinking (a sequential scan; no typo tolerance);
* pg_trgm, the design measured first (matcher/esco/autocomplete.py): a GIN trigram
  index on folded labels (a scratch table `bench_trgm_labels`), `%>` to find
  candidates, word_similarity plus prefix bonuses to rank, best label per concept.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import psycopg
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from alembic import command
from bench.docs_section import write_section
from matcher.db import async_url, sync_url
from matcher.esco.autocomplete import Autocomplete, LabelIndex, fold

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
SHARED = ROOT.parent / "shared" / "data"
DB_NAME = "jotr_bench_ac"
DEFAULT_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
LIMIT = 10
TYPO_RATE = 1 / 7

ILIKE_SQL = """
SELECT DISTINCT ON (l.concept_uri) l.concept_uri, l.label, length(l.label) AS n
FROM concept_labels l JOIN {table} c ON c.uri = l.concept_uri AND c.active
WHERE l.concept_type = $2 AND l.lang = ANY($3) AND l.label ILIKE '%' || $1 || '%'
ORDER BY l.concept_uri, n
"""
ILIKE_TOP = "SELECT * FROM ({inner}) s ORDER BY n LIMIT $4"

TRGM_SQL = """
WITH hits AS (
  SELECT l.concept_uri, l.label,
         word_similarity($1, l.label_norm)
         + CASE WHEN l.label_norm LIKE $1 || '%' THEN 1.0
                WHEN ' ' || l.label_norm LIKE '% ' || $1 || '%' THEN 0.6 ELSE 0 END
         + CASE l.label_type WHEN 'preferred' THEN 0.1 WHEN 'alt' THEN 0.05 ELSE 0 END
         - least(length(l.label_norm) * 0.002, 0.2) AS score
  FROM bench_trgm_labels l
  WHERE l.label_norm %> $1 AND l.concept_type = $2 AND l.lang = ANY($3)
), best AS (
  SELECT DISTINCT ON (concept_uri) * FROM hits ORDER BY concept_uri, score DESC
)
SELECT b.concept_uri, b.label FROM best b
JOIN {table} c ON c.uri = b.concept_uri AND c.active
ORDER BY b.score DESC LIMIT $4
"""

# (name, concept_type, table, langs searched, lang asked, langs the queries are cut from)
KINDS = [
    ("occupations, da", "Occupation", "occupations", ["da", "en"], "da", ["da", "en"]),
    ("occupations, en", "Occupation", "occupations", ["en"], "en", ["en"]),
    ("skills, en", "KnowledgeSkillCompetence", "skills", ["en"], "en", ["en"]),
    # Danish skill labels: our easy-Danish vocabulary (labels and synonyms).
    ("skills, da", "KnowledgeSkillCompetence", "skills", ["da", "en"], "da", ["da"]),
]


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def prepare_database(admin_url: str, reuse: bool) -> str:
    url = sync_url(make_url(admin_url).set(database=DB_NAME).render_as_string(False))
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
        if exists and reuse:
            return url
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")
    from matcher.esco.esco_import import load_esco

    load_esco(url, [SHARED / "esco_en", SHARED / "esco_da"])
    with psycopg.connect(_libpq(url)) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        rows = conn.execute(
            "SELECT concept_uri, concept_type, lang, label_type, label FROM concept_labels"
        ).fetchall()
        conn.execute(
            "CREATE TABLE bench_trgm_labels (concept_uri text, concept_type text, "
            "lang text, label_type text, label text, label_norm text)"
        )
        with conn.cursor().copy("COPY bench_trgm_labels FROM STDIN") as copy:
            for r in rows:
                copy.write_row((*r, fold(r[4])))
        conn.execute("CREATE INDEX ON bench_trgm_labels USING gin (label_norm gin_trgm_ops)")
        conn.execute("ANALYZE bench_trgm_labels")
    return url


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word))
    op = rng.choice(("drop", "double", "swap", "replace"))
    if op == "drop":
        return word[:i] + word[i + 1 :]
    if op == "double":
        return word[:i] + word[i] + word[i:]
    if op == "swap" and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice("abcdefghijklmnoprstuvy") + word[i + 1 :]


def make_queries(index: LabelIndex, langs: list[str], n: int, rng: random.Random) -> list[str]:
    pool = [label for label, lg in zip(index.labels, index.label_lang, strict=True) if lg in langs]
    out: list[str] = []
    while len(out) < n:
        label = rng.choice(pool)
        q = label[: rng.randint(1, 8)].rstrip()
        if rng.random() < TYPO_RATE:
            q = typo(rng, q)
        if fold(q):
            out.append(q)
    return out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


async def timed(fn: Callable[[str], Awaitable[object]], queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        t = time.perf_counter()
        await fn(q)
        out.append((time.perf_counter() - t) * 1000)
    return out


async def run(url: str, n: int, n_baseline: int, seed: int) -> tuple[str, dict[str, float]]:
    engine = create_async_engine(async_url(url))
    async with AsyncSession(engine) as session:
        started = time.perf_counter()
        index = await Autocomplete.load(session)
        load_s = time.perf_counter() - started
    await engine.dispose()
    conn = await asyncpg.connect(_libpq(url))
    rng = random.Random(seed)
    lines = [
        "| queries | method | typo-tolerant | p50 | p99 | max | p99 vs in-memory |",
        "|---|---|:-:|---:|---:|---:|---:|",
    ]
    summary: dict[str, float] = {"load_s": load_s}
    for name, concept_type, table, langs, lang, source in KINDS:
        labels = index.occupations if table == "occupations" else index.skills
        queries = make_queries(labels, source, n, rng)

        async def ours(q: str, labels: LabelIndex = labels, lang: str = lang) -> object:
            return labels.search(q, lang, LIMIT)

        ilike = ILIKE_TOP.format(inner=ILIKE_SQL.format(table=table))
        trgm = TRGM_SQL.format(table=table)

        async def by_ilike(
            q: str, sql: str = ilike, ct: str = concept_type, lg: list[str] = langs
        ) -> object:
            return await conn.fetch(sql, q, ct, lg, LIMIT)

        async def by_trgm(
            q: str, sql: str = trgm, ct: str = concept_type, lg: list[str] = langs
        ) -> object:
            return await conn.fetch(sql, fold(q), ct, lg, LIMIT)

        for fn in (ours, by_ilike, by_trgm):  # warm up: plans, caches, NumPy
            await timed(fn, queries[:20])
        mine = await timed(ours, queries)
        base = queries[:n_baseline]
        rows = [
            ("in-memory index (this)", "yes", mine),
            ("ILIKE '%q%' scan", "no", await timed(by_ilike, base)),
            ("pg_trgm GIN, word_similarity", "yes", await timed(by_trgm, base)),
        ]
        for method, fuzzy, times in rows:
            ratio = pct(times, 99) / pct(mine, 99)
            lines.append(
                f"| {name} ({len(times):,}) | {method} | {fuzzy} | {pct(times, 50):.2f} ms "
                f"| **{pct(times, 99):.2f} ms** | {max(times):.1f} ms | {ratio:.1f}x |"
            )
        summary[f"{name} p99"] = pct(mine, 99)
    await conn.close()
    return "\n".join(lines), summary


def machine() -> str:
    cores = os.cpu_count()
    load = os.getloadavg()[0]
    return f"{cores} cores, Python {platform.python_version()}, 1-minute load {load:.2f}"


def write_docs(block: str) -> None:
    write_section("autocomplete", "Autocomplete", block)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--queries", type=int, default=2000, help="per kind, in-memory index")
    ap.add_argument("--baseline-queries", type=int, default=300, help="per kind, baselines")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--reuse", action="store_true", help="keep an existing jotr_bench_ac")
    ap.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    ap.add_argument("--write-docs", action="store_true", help="record the table in docs")
    args = ap.parse_args(argv)
    admin = os.environ.get("JOTR_BENCH_ADMIN_URL", DEFAULT_ADMIN)
    url = prepare_database(admin, args.reuse)
    load_before = machine()
    try:
        table, summary = asyncio.run(run(url, args.queries, args.baseline_queries, args.seed))
    finally:
        if not args.keep:
            with psycopg.connect(_libpq(admin), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    cmd = "python -m bench.autocomplete " + " ".join(sys.argv[1:])
    block = (
        f"Measured {dt.date.today().isoformat()} with `{cmd.strip()}`: queries of 1-8 letters "
        f"of real labels, one in seven with a typo, limit {LIMIT}, one at a time; index "
        f"built in {summary['load_s']:.1f} s at startup.\n"
        f"Machine: {load_before} before, {machine().split(', ')[-1]} after; "
        f"PostgreSQL on the same machine (baselines), asyncpg.\n\n{table}"
    )
    print(block)
    if args.write_docs:
        write_docs(block)


if __name__ == "__main__":
    main()
