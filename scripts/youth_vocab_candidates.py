#!/usr/bin/env python3
"""List the ESCO skills the easy-Danish youth vocabulary does not cover yet.

Maintainer tool, not used by the product. Reads the chosen occupations
(matcher/data/youth_occupations.csv), their essential skills from ESCO's
occupation-skill relations, and the vocabulary (matcher/data/youth_skills_da.csv),
and prints one CSV row per essential skill that has neither a Danish label nor a
documented exclusion (matcher/data/youth_skills_da_excluded.csv), most shared
first, so a reviewer can author the Danish by hand:

    scripts/youth_vocab_candidates.py [--esco ../shared/data/esco_en] > todo.csv

Columns: skill_uri, occupations (how many chosen occupations need it), label_en
(ESCO's preferred label, to translate), and the coverage figure on stderr.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "matcher" / "data"


def _rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--esco", type=Path, default=ROOT.parent / "shared" / "data" / "esco_en")
    args = parser.parse_args()
    chosen = {r["occupation_uri"] for r in _rows(DATA / "youth_occupations.csv")}
    need: Counter[str] = Counter()
    label: dict[str, str] = {}
    for r in _rows(args.esco / "occupation_skill_relations_v1.2.0.csv.gz"):
        if r["occupationUri"] in chosen and r["relationType"] == "essential" and r["skillUri"]:
            need[r["skillUri"]] += 1
            label[r["skillUri"]] = r["skillLabel"]
    done = {r["skill_uri"] for r in _rows(DATA / "youth_skills_da.csv")}
    excluded_path = DATA / "youth_skills_da_excluded.csv"
    excluded = {r["skill_uri"] for r in _rows(excluded_path)} if excluded_path.exists() else set()
    out = csv.writer(sys.stdout)
    out.writerow(["skill_uri", "occupations", "label_en"])
    for uri, n in need.most_common():
        if uri not in done and uri not in excluded:
            out.writerow([uri, n, label[uri]])
    covered = len(need.keys() & done)
    print(
        f"{len(chosen)} occupations, {len(need)} essential skills, {covered} labelled "
        f"({covered / max(len(need), 1):.1%}), {len(need.keys() & excluded)} excluded",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
