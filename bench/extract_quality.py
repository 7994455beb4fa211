"""How good is `matcher.extraction.extract` at reading ads? Prints the quality table.

    python -m bench.extract_quality              # print the table
    python -m bench.extract_quality --write-docs # and replace the table in docs/quality.md

Tasks (data in ../shared/data, see its README):

* **Skills, English** — skill_extraction_en (Decorte et al., TECH + HOUSE
  validation): each job-ad sentence with its ESCO skill labels ("LABEL NOT
  PRESENT" skipped, labels not in our ESCO version counted and skipped). The
  sentence is the ad text (no title). recall@5 = share of (sentence, gold
  skill) pairs whose skill is among the top 5 suggestions; MRR = mean of
  1/rank of the gold skill (0 beyond rank 100).
* **Occupation from title, Danish** — every Danish ESCO alt label of an
  occupation is a query (title only). The extractor is built *without* any
  Danish alt label (held out), so the query is never in the index: it must be
  found from the preferred Danish labels, ISCO group labels and English labels.
  Alt labels equal to the occupation's preferred label are skipped; a query
  shared by several occupations counts as right for any of them.
* **Occupation from title, English** — the same with English alt labels held out
  (English descriptions stay in the index); every 5th query, to keep the run short.

The baseline is plain string matching over the same index text: a label equal
to the query first, then labels contained in the query (longest first), then
labels that contain the query (shortest first).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from matcher.esco.esco_read import Dataset, discover, read
from matcher.extraction import extract as ex

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DOC = ROOT / "docs" / "quality.md"
BEGIN, END = "<!-- extract_quality:begin -->", "<!-- extract_quality:end -->"
Ranker = Callable[[str], list[str]]
ENGLISH_SAMPLE = 5  # every 5th English alt label (29k in all) keeps the run near a minute


def load_dataset() -> Dataset:
    return read(*discover([DATA / "esco_en", DATA / "esco_da"]))


def rows_from(data: Dataset) -> tuple[list[ex.ConceptText], list[tuple[str, str, str]]]:
    """The rows `Extractor.from_database` would read after importing `data`."""
    skills = [(u, v[2], v[3]) for u, v in data.skills.items() if v[0] != "group"]
    occs = [(u, v[2], v[3], v[1]) for u, v in data.occupations.items() if v[0] == "Occupation"]
    labels = [(u, lang, t, label) for (u, lang, t, label) in data.labels]
    rows = ex.concept_rows(
        [list(c) for c in zip(*skills, strict=True)],
        [list(c) for c in zip(*occs, strict=True)],
        [list(c) for c in zip(*labels, strict=True)],
    )
    return rows, [(o, s, t) for (o, s), t in data.occupation_skills.items()]


# --- baseline -------------------------------------------------------------------


class StringMatch:
    """Exact, then whole-word substring label matching (case-insensitive)."""

    def __init__(self, rows: Sequence[ex.ConceptText], kind: str, langs: set[str]):
        self.exact: dict[str, set[str]] = defaultdict(set)
        for r in rows:
            if r.kind == kind and r.lang in langs and r.label_type in ("preferred", "alt"):
                self.exact[_norm(r.text)].add(r.uri)
        # word n-gram -> labels containing it, for "the query is part of a label"
        self.within: dict[str, set[str]] = defaultdict(set)
        for label in self.exact:
            for gram in _word_grams(label):
                if gram != label:
                    self.within[gram].add(label)

    def rank(self, query: str, top: int = 100) -> list[str]:
        q = _norm(query)
        scored: dict[str, float] = {}

        def add(label: str, score: float) -> None:
            for u in self.exact[label]:
                scored[u] = max(scored.get(u, 0.0), score)

        if q in self.exact:
            add(q, 3.0)
        for gram in _word_grams(q):  # labels inside the query, longest first
            if gram != q and gram in self.exact:
                add(gram, 1.0 + len(gram) / len(q))
        for label in self.within.get(q, ()):  # labels around the query, shortest first
            add(label, 0.5 + len(q) / len(label))
        return sorted(scored, key=lambda u: -scored[u])[:top]


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _word_grams(text: str, longest: int = 8) -> list[str]:
    words = text.split()
    return [
        " ".join(words[i : i + n])
        for n in range(1, min(longest, len(words)) + 1)
        for i in range(len(words) - n + 1)
    ]


# --- tasks ----------------------------------------------------------------------


def skill_pairs(uri_of: dict[str, str]) -> tuple[list[tuple[str, set[str]]], int]:
    gold: dict[str, set[str]] = defaultdict(set)
    missing = 0
    for name in ("tech_validation_annotations.csv", "house_validation_annotations.csv"):
        with (DATA / "skill_extraction_en" / name).open(encoding="utf-8") as f:
            for r in csv.DictReader(f):
                label = r["label"].strip()
                if label == "LABEL NOT PRESENT":
                    continue
                uri = uri_of.get(label) or uri_of.get(label.lower())
                if uri is None:
                    missing += 1
                else:
                    gold[r["sentence"]].add(uri)
    return list(gold.items()), missing


def title_queries(
    rows: Sequence[ex.ConceptText], lang: str
) -> tuple[list[tuple[str, set[str]]], list[ex.ConceptText]]:
    """(alt label, its occupations) queries, and the rows without those alt labels."""
    preferred = {
        r.uri: r.text.lower()
        for r in rows
        if r.kind == "occupation" and r.lang == lang and r.label_type == "preferred"
    }
    gold: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        alt = r.kind == "occupation" and r.lang == lang and r.label_type in ("alt", "hidden")
        if alt and r.text.lower() != preferred.get(r.uri):
            gold[r.text].add(r.uri)
    kept = [
        r
        for r in rows
        if not (r.kind == "occupation" and r.lang == lang and r.label_type in ("alt", "hidden"))
    ]
    return sorted(gold.items()), kept


def evaluate(
    queries: Sequence[tuple[str, set[str]]], ranker: Ranker, per_gold: bool
) -> dict[str, float]:
    """hit@1, hit@5 and reciprocal rank, averaged over pairs.

    per_gold: each (query, gold concept) is a pair (skills: a sentence names
    several); else one pair per query, right if any gold concept is found.
    """
    ranks: list[int] = []
    for query, gold in queries:
        ranked = ranker(query)
        pos = {u: i + 1 for i, u in enumerate(ranked)}
        if per_gold:
            ranks.extend(pos.get(g, 0) for g in gold)
        else:
            ranks.append(min((pos[g] for g in gold if g in pos), default=0))
    r = np.asarray(ranks)
    return {
        "n": r.size,
        "at1": float(np.mean(r == 1)),
        "at5": float(np.mean((r > 0) & (r <= 5))),
        "mrr": float(np.mean(np.where(r > 0, 1.0 / np.maximum(r, 1), 0.0))),
    }


def reliability(
    queries: Sequence[tuple[str, set[str]]], suggest: Callable[[str], list[ex.Suggestion]]
) -> list[tuple[float, bool]]:
    """(confidence, right?) for every suggestion made."""
    return [(s.confidence, s.uri in gold) for q, gold in queries for s in suggest(q)]


def fit_calibration(points: list[tuple[float, bool]]) -> tuple[float, float]:
    """Logistic fit of right ~ raw score: (k, s0) for `matcher.extraction.extract.CALIBRATION`."""
    from sklearn.linear_model import LogisticRegression

    x = np.asarray([[p[0]] for p in points])
    y = np.asarray([p[1] for p in points])
    model = LogisticRegression(C=100.0).fit(x, y)
    k = float(model.coef_[0][0])
    return round(k, 1), round(float(-model.intercept_[0] / k), 3)


def bins(points: list[tuple[float, bool]]) -> list[str]:
    edges = (0.0, 0.2, 0.4, 0.6, 0.8, 1.01)
    out = []
    for lo, hi in itertools.pairwise(edges):
        inside = [ok for c, ok in points if lo <= c < hi]
        share = f"{np.mean(inside):.2f} ({len(inside)})" if inside else "–"
        out.append(share)
    return out


def raw_scores() -> None:
    """Make `extract` return raw scores as confidences (for fitting the calibration)."""
    ex.confidence = lambda kind, raw: np.asarray(raw)  # type: ignore[assignment]


def run(calibrate: bool = False) -> tuple[list[list[str]], dict[str, float]]:
    if calibrate:
        raw_scores()
    t0 = time.perf_counter()
    data = load_dataset()
    rows, links = rows_from(data)
    t1 = time.perf_counter()
    full = ex.Extractor.build(rows, links)
    build_s = time.perf_counter() - t1
    print(f"ESCO read in {t1 - t0:.1f}s; extractor built in {build_s:.2f}s")
    table: list[list[str]] = []

    # Skills (English sentences).
    uri_of: dict[str, str] = {}
    for r in rows:
        if r.kind == "skill" and r.label_type == "preferred" and r.lang == "en":
            uri_of.setdefault(r.text, r.uri)
            uri_of.setdefault(r.text.lower(), r.uri)
    pairs, missing = skill_pairs(uri_of)
    base = StringMatch(rows, "skill", {"en"})

    def skills_of(q: str) -> list[str]:
        return [s.uri for s in full.extract("", q, "en", 3, 100).skills]

    t = time.perf_counter()
    ours = evaluate(pairs, skills_of, per_gold=True)
    per_call = (time.perf_counter() - t) / len(pairs) * 1000
    theirs = evaluate(pairs, base.rank, per_gold=True)
    skill_points = reliability(pairs, lambda q: full.extract("", q, "en", 3, 5).skills)
    what = f"skills, English sentences ({ours['n']:.0f} pairs; {missing} gold labels not in ESCO)"
    table.append([what, "recall@5 / MRR", _fmt(ours, "at5", "mrr"), _fmt(theirs, "at5", "mrr")])

    # Occupations from titles, Danish and English.
    for lang, name in (("da", "Danish"), ("en", "English")):
        queries, kept = title_queries(rows, lang)
        queries = queries[:: ENGLISH_SAMPLE if lang == "en" else 1]
        held_out = ex.Extractor.build(kept, links)
        base = StringMatch(kept, "occupation", {lang, "en"})

        def occs_of(q: str, e: ex.Extractor = held_out, lang: str = lang) -> list[str]:
            return [s.uri for s in e.extract(q, "", lang, 5, 0).occupations]

        ours = evaluate(queries, occs_of, per_gold=False)
        theirs = evaluate(queries, base.rank, per_gold=False)
        if lang == "da":  # titles ESCO lacks (held out) and titles it has, half and half
            occ_points = reliability(
                queries, lambda q, e=held_out: e.extract(q, "", "da", 1, 0).occupations
            )
            known_points = reliability(
                queries, lambda q: full.extract(q, "", "da", 1, 0).occupations
            )
        what = f"occupation from title, {name} alt labels held out ({len(queries)} queries)"
        table.append(
            [what, "accuracy@1 / @5", _fmt(ours, "at1", "at5"), _fmt(theirs, "at1", "at5")]
        )
    stats = {"build_s": build_s, "extract_ms": per_call}
    if calibrate:
        both = occ_points + known_points
        print("CALIBRATION = occupation", fit_calibration(both), end=", ")
        print("skill", fit_calibration(skill_points))
    table.append(["top-1 occupation, Danish titles not in ESCO", *bins(occ_points)])
    table.append(["top-1 occupation, Danish titles that are ESCO labels", *bins(known_points)])
    table.append(["top-5 skills, English sentences", *bins(skill_points)])
    return table, stats


def _fmt(m: dict[str, float], a: str, b: str) -> str:
    return f"{m[a]:.3f} / {m[b]:.3f}"


def render(table: list[list[str]], stats: dict[str, float]) -> str:
    lines = [
        f"Measured {dt.date.today().isoformat()} with `python -m bench.extract_quality`; "
        f"extractor build {stats['build_s']:.1f} s, extract {stats['extract_ms']:.1f} ms "
        "per English sentence (one core).",
        "",
        "| task | metric | TF-IDF char n-grams (ours) | string match (baseline) |",
        "| --- | --- | --- | --- |",
        *(f"| {' | '.join(r)} |" for r in table if len(r) == 4),
        "",
        "Reliability of the confidence: share of suggestions that were right, by confidence "
        "(count in brackets). Skill gold labels are incomplete (a sentence's other true "
        "skills count as wrong), so the skill row understates precision.",
        "",
        "| suggestions | 0-0.2 | 0.2-0.4 | 0.4-0.6 | 0.6-0.8 | 0.8-1 |",
        "| --- | --- | --- | --- | --- | --- |",
        *(f"| {' | '.join(r)} |" for r in table if len(r) == 6),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write-docs", action="store_true", help="update docs/quality.md")
    parser.add_argument(
        "--calibrate", action="store_true", help="fit the confidence curves (prints constants)"
    )
    args = parser.parse_args()
    table, stats = run(args.calibrate)
    text = render(table, stats)
    print(text)
    if args.write_docs:
        doc = DOC.read_text(encoding="utf-8")
        head, rest = doc.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")
        print(f"updated {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
