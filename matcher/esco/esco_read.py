"""Find and parse the files of an ESCO CSV download (no database here).

See matcher/esco/esco_import.py for which files are read and what becomes of them.
Parsing builds plain dicts keyed by URI; the importer then writes them in one
transaction. Rows that point at concepts absent from the set (the reduced
skills file lacks some skills; a few relations have no skill URI) are counted
in `Dataset.skipped` rather than failing the import.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Kind of pillar file -> official file stem. All seven must be present for a set.
PILLAR_FILES: dict[str, str] = {
    "skills": "skills",
    "skill_groups": "skillGroups",
    "occupations": "occupations",
    "isco_groups": "ISCOGroups",
    "broader": "broaderRelationsSkillPillar",
    "skill_relations": "skillSkillRelations",
    "occupation_skills": "occupationSkillRelations",
}
_STEM_KIND = {stem: kind for kind, stem in PILLAR_FILES.items()}
_SUFFIX = r"\.csv(?:\.gz)?$"
_LANG = r"(?P<lang>[a-z]{2,3})"
_PILLAR_RE = re.compile(rf"^(?P<stem>[A-Za-z]+)_{_LANG}{_SUFFIX}")
_OUR_RELATIONS_RE = re.compile(rf"^occupation_skill_relations[\w.\-]*?{_SUFFIX}")
_LABELS_RE = re.compile(rf"^[\w.\-]*_labels_{_LANG}{_SUFFIX}")
_RELATION_TYPES = ("essential", "optional")
_SKILL_CONCEPT = "KnowledgeSkillCompetence"
# Files whose rows carry labels: enough, in a language other than the primary's.
_LABEL_KINDS = ("skills", "skill_groups", "occupations", "isco_groups")

csv.field_size_limit(1 << 24)


class EscoImportError(Exception):
    """The ESCO files cannot be imported (nothing was written)."""


class EscoFilesMissing(EscoImportError):
    def __init__(self, directory: Path, missing: Sequence[str]):
        self.directory = directory
        self.missing = list(missing)
        super().__init__(
            f"ESCO directory {directory} lacks required file(s): {', '.join(self.missing)} "
            "(plain .csv or gzip-compressed .csv.gz)"
        )


@dataclass
class FileSet:
    directory: Path
    lang: str
    files: dict[str, Path] = field(default_factory=dict)
    collections: list[Path] = field(default_factory=list)

    def missing(self) -> list[str]:
        return [f"{PILLAR_FILES[k]}_{self.lang}.csv" for k in PILLAR_FILES if k not in self.files]


@dataclass
class Dataset:
    # uri -> [skill_type, reuse_level, preferred_label, description]; order = file order
    skills: dict[str, list[str]] = field(default_factory=dict)
    # uri -> (concept_type, isco_code, preferred_label, description)
    occupations: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)
    broader: set[tuple[str, str]] = field(default_factory=set)
    related: dict[tuple[str, str], str] = field(default_factory=dict)
    occupation_skills: dict[tuple[str, str], str] = field(default_factory=dict)
    # (uri, lang, label_type, label) -> concept_type
    labels: dict[tuple[str, str, str, str], str] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    group_codes: dict[str, str] = field(default_factory=dict)  # group uri -> code (S1.2, K...)


def discover(directories: Sequence[Path]) -> tuple[list[FileSet], list[tuple[str, Path]]]:
    """Pillar file sets (primary first) and (lang, path) label files; raise if incomplete."""
    complete: list[FileSet] = []
    partial: list[FileSet] = []
    label_files: list[tuple[str, Path]] = []
    order = {Path(d): i for i, d in reversed(list(enumerate(directories)))}
    for directory in map(Path, directories):
        if not directory.is_dir():
            raise EscoImportError(f"ESCO directory {directory} does not exist")
        by_lang: dict[str, FileSet] = {}
        our_relations: Path | None = None
        for path in sorted(directory.iterdir()):
            name = path.name
            if m := _LABELS_RE.match(name):
                label_files.append((m["lang"], path))
            elif _OUR_RELATIONS_RE.match(name):
                our_relations = our_relations or path
            elif m := _PILLAR_RE.match(name):
                fs = by_lang.setdefault(m["lang"], FileSet(directory, m["lang"]))
                if m["stem"] in _STEM_KIND:
                    fs.files.setdefault(_STEM_KIND[m["stem"]], path)
                elif m["stem"].endswith("SkillsCollection"):
                    fs.collections.append(path)
        for fs in by_lang.values():
            if our_relations is not None:
                fs.files.setdefault("occupation_skills", our_relations)
        pillar = [fs for fs in by_lang.values() if fs.files.keys() - {"occupation_skills"}]
        if not pillar and not any(p.parent == directory for _, p in label_files):
            raise EscoFilesMissing(directory, [f"{s}_<lang>.csv" for s in PILLAR_FILES.values()])
        for fs in pillar:
            # A language with only some label-bearing files (skills_da.csv,
            # occupations_da.csv ...) adds labels, if another set is complete.
            if fs.missing() and not fs.files.keys() & set(_LABEL_KINDS):
                raise EscoFilesMissing(directory, fs.missing())
            (partial if fs.missing() else complete).append(fs)
    if not complete:
        missing = partial[0].missing() if partial else None
        raise EscoFilesMissing(
            partial[0].directory if partial else Path(directories[0]),
            missing or [f"{s}_<lang>.csv" for s in PILLAR_FILES.values()],
        )
    # The first directory's complete set is the primary (English first within it).
    complete.sort(key=lambda fs: (order[fs.directory], fs.lang != "en", fs.lang))
    return complete + partial, label_files


# --- reading ------------------------------------------------------------------


def _rows(path: Path) -> Iterator[dict[str, str]]:
    # utf-8-sig: some ESCO exports start with a byte-order mark before "conceptType".
    with (
        gzip.open(path, "rt", encoding="utf-8-sig", newline="")
        if path.name.endswith(".gz")
        else path.open(encoding="utf-8-sig", newline="")
    ) as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        # csv.reader + zip is about twice as fast as DictReader on 130k-row files.
        for row in reader:
            yield dict(zip(header, map(str.strip, row), strict=False))


def _rows_of(files: dict[str, Path], kind: str) -> Iterator[dict[str, str]]:
    # A label-only set (another language) may lack some files; a primary set never does.
    return _rows(files[kind]) if kind in files else iter(())


def _split(value: str) -> list[str]:
    # Full downloads separate alt labels by newlines; collection files by " | ".
    return [s.strip() for s in re.split(r"\n| \| ", value) if s.strip()]


def _isco(value: str) -> str:
    # Some ESCO versions give the ISCO group as a URI (.../isco/C2654), others as code.
    return value.rsplit("/C", 1)[-1] if "/" in value else value


def read(sets: list[FileSet], label_files: list[tuple[str, Path]]) -> Dataset:
    data = Dataset()
    primary = sets[0]
    _read_pillar(data, primary, structure=True)
    for fs in sets[1:]:
        _read_pillar(data, fs, structure=False)
    for lang, path in label_files:
        for r in _rows(path):
            label_type = r.get("labelType", "").removesuffix("Label").lower()
            if r.get("conceptUri") and r.get("label") and label_type:
                key = (r["conceptUri"], lang, label_type, r["label"])
                data.labels[key] = r.get("conceptType", "")
    return data


def _add_labels(data: Dataset, r: dict[str, str], lang: str, concept_type: str) -> None:
    uri = r["conceptUri"]
    if r.get("preferredLabel"):
        data.labels[(uri, lang, "preferred", r["preferredLabel"])] = concept_type
    for column, label_type in (("altLabels", "alt"), ("hiddenLabels", "hidden")):
        for label in _split(r.get(column, "")):
            data.labels[(uri, lang, label_type, label)] = concept_type


def _read_pillar(data: Dataset, fs: FileSet, structure: bool) -> None:
    """Concepts and labels of one language; hierarchy and relations only if `structure`."""
    lang, f = fs.lang, fs.files
    for r in _rows_of(f, "skills"):
        if not r.get("conceptUri"):
            continue
        _add_labels(data, r, lang, r.get("conceptType") or _SKILL_CONCEPT)
        if structure:
            data.skills[r["conceptUri"]] = [
                r.get("skillType", ""),
                r.get("reuseLevel", ""),
                r.get("preferredLabel", ""),
                r.get("description", ""),
            ]
    for path in fs.collections:
        for r in _rows(path):
            uri = r.get("conceptUri", "")
            if not uri or (r.get("conceptType") or _SKILL_CONCEPT) != _SKILL_CONCEPT:
                continue
            _add_labels(data, r, lang, _SKILL_CONCEPT)
            if structure:
                new = [
                    r.get("skillType", ""),
                    r.get("reuseLevel", ""),
                    r.get("preferredLabel", ""),
                    r.get("description", ""),
                ]
                # The reduced skills file omits some skills and most attributes:
                # fill the gaps without overriding what the skills file says.
                old = data.skills.setdefault(uri, new)
                for i, value in enumerate(new):
                    old[i] = old[i] or value
    for r in _rows_of(f, "skill_groups"):
        if r.get("conceptUri"):
            _add_labels(data, r, lang, "SkillGroup")
            if structure:
                data.group_codes[r["conceptUri"]] = r.get("code", "")
                data.skills.setdefault(
                    r["conceptUri"],
                    ["group", "", r.get("preferredLabel", ""), r.get("description", "")],
                )
    for kind, concept_type in (("occupations", "Occupation"), ("isco_groups", "ISCOGroup")):
        for r in _rows_of(f, kind):
            if not r.get("conceptUri"):
                continue
            _add_labels(data, r, lang, concept_type)
            if structure:
                code = r.get("iscoGroup", "") if kind == "occupations" else r.get("code", "")
                if not code and kind == "isco_groups":
                    code = r["conceptUri"]
                description = r.get("description") or r.get("definition", "")
                data.occupations[r["conceptUri"]] = (
                    concept_type,
                    _isco(code),
                    r.get("preferredLabel", ""),
                    description,
                )
    if structure:
        _read_structure(data, f)


def _typed(
    data: Dataset, target: dict[tuple[str, str], str], key: tuple[str, str], rt: str, name: str
) -> None:
    rt = rt.lower()
    if rt not in _RELATION_TYPES or key[0] == key[1]:
        data.skipped[name] += 1
    elif target.get(key) != "essential":  # a pair listed twice counts as essential
        target[key] = rt


def _read_structure(data: Dataset, f: dict[str, Path]) -> None:
    skills, occupations = data.skills, data.occupations
    for r in _rows(f["broader"]):
        pair = (r.get("conceptUri", ""), r.get("broaderUri", ""))
        if pair[0] in skills and pair[1] in skills and pair[0] != pair[1]:
            data.broader.add(pair)
        else:
            data.skipped["skill_broader"] += 1
    for r in _rows(f["skill_relations"]):
        pair = (r.get("originalSkillUri", ""), r.get("relatedSkillUri", ""))
        if pair[0] in skills and pair[1] in skills:
            _typed(data, data.related, pair, r.get("relationType", ""), "skill_relations")
        else:
            data.skipped["skill_relations"] += 1
    for r in _rows(f["occupation_skills"]):
        pair = (r.get("occupationUri", ""), r.get("skillUri", ""))
        if pair[0] in occupations and pair[1] in skills:
            rt = r.get("relationType", "")
            _typed(data, data.occupation_skills, pair, rt, "occupation_skills")
        else:
            data.skipped["occupation_skills"] += 1
    _infer_types(data)


def _infer_types(data: Dataset) -> None:
    """Fill skill type and transversal reuse level from the pillar's top groups.

    The reduced skills file has no skillType/reuseLevel. ESCO files every skill
    under one or more of four top groups: K knowledge, S skills, T transversal,
    L language. Checked against the collections, which carry both columns:
    "any K above -> knowledge, else skill/competence" is right for ~97 %, and
    "only T/L above -> transversal" for all of them. Official files are not
    touched: a type given in the data always wins.
    """
    parents: dict[str, list[str]] = {}
    for child, parent in data.broader:
        parents.setdefault(child, []).append(parent)
    tops: dict[str, frozenset[str]] = {}

    def top_codes(uri: str, depth: int = 0) -> frozenset[str]:
        if uri not in tops:
            ups = parents.get(uri, [])
            if not ups or depth > 20:  # depth guard: a cycle in bad data must not recurse forever
                code = data.group_codes.get(uri, "")[:1]
                tops[uri] = frozenset(code) if code.isalpha() else frozenset()
            else:
                tops[uri] = frozenset().union(*(top_codes(p, depth + 1) for p in ups))
        return tops[uri]

    for uri, row in data.skills.items():
        if row[0] == "" and (codes := top_codes(uri)):
            row[0] = "knowledge" if "K" in codes else "skill/competence"
            if row[1] == "" and codes <= {"T", "L"}:
                row[1] = "transversal"
