"""Skills and occupation from an ad's free text: ESCO suggestions with confidences.

    extractor = await Extractor.from_database(session)      # or Extractor.build(rows)
    found = extractor.extract("Barista", "You will prepare espresso ...", "en")
    found.occupations[0]  # Suggestion(uri=".../occupation/...", label="barista", confidence=0.93)

How it works (measured in docs/quality.md, `python -m bench.extract_quality`):

* Every ESCO label and description is a row in a TF-IDF index of character
  3-5-grams (`matcher/extraction/extract_index.py`): robust to Danish compounds and
  inflection, no model weights, built in about a second.
* Occupation: the title is matched against occupation labels; the best
  sentence of the text counts too (an ad often says "we are looking for a
  baker"), weighted `TEXT_WEIGHT` against the title (`TEXT_FACTOR` if there is
  no title: a sentence is about more than the job).
* Skills: the text is split into sentences (lines, bullets, full stops) and
  each piece is matched against skill
  labels and descriptions and a skill keeps its best piece. The top
  occupations' ESCO profiles add a small prior (`PROFILE_PRIOR`): "espresso" is
  more likely "prepare espresso" in a barista ad. Where a language has no skill
  labels the skills come from the top occupations' profiles (essential before
  optional), plus near-verbatim matches against the English labels (tools like
  "Excel"). Danish has labels for some skills (our easy-Danish youth
  vocabulary, matcher/esco/youth_vocab.py: "betjene kassen", "opvask"): those are
  also found in the text itself, as English skills are.

Confidence
----------
A raw score s is a weighted cosine in [0, 1]. It is mapped to a confidence by a
logistic curve, `1 / (1 + exp(-k (s - s0)))`, whose constants were fitted on the
benchmarks (`python -m bench.extract_quality --calibrate`): for occupations,
Danish titles half of which ESCO lacks (alt labels held out of the index) and
half of which it has (the same labels, indexed); for skills, English
sentences -> skills. docs/quality.md has the reliability table. Read it as
"about this share of suggestions with this confidence were right on the
benchmark": calibrated-ish, not a promise.
Profile-derived skills carry the occupation's confidence times 0.8 (essential)
or 0.5 (optional): they are what the occupation usually needs, not what the ad
said.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.extraction.extract_index import GramVocab, LabelIndex, Row
from matcher.models import ConceptLabel, Occupation, OccupationSkill, Skill

Kind = Literal["occupation", "skill"]
LANGS: tuple[str, ...] = ("da", "en")
BASE_LANG = "en"  # the language every ESCO concept has labels in

TEXT_FACTOR = 0.85  # the text alone (no title): a sentence is about more than the job
TEXT_WEIGHT = 0.35  # the text's share when there is a title too
FOREIGN_FACTOR = 0.9  # English labels in another language's index (titles are often English)
PROFILE_PRIOR = 0.1  # added to a skill's score per unit of its occupation's confidence
PROFILE_WEIGHT = {"essential": 0.8, "optional": 0.5}
PROFILE_OCCUPATIONS = 3  # how many top occupations lend their profile
VERBATIM = 0.8  # raw score for an English skill label to count inside a Danish ad
# Logistic calibration (k, s0) per kind; fitted by bench/extract_quality.py.
CALIBRATION: dict[Kind, tuple[float, float]] = {
    "occupation": (6.2, 0.704),
    "skill": (9.0, 0.76),
}
# Share of "label contained in the sentence" in a sentence's score (extract_index).
CONTAINMENT = 0.5
TITLE_CONTAINMENT = 0.0
MIN_CONFIDENCE = 0.01  # below this a suggestion is noise and is left out
MAX_PIECES = 400  # sentences looked at; the rest of a very long text is ignored
MAX_PIECE_CHARS = 300

_SENTENCE = re.compile(r"\n|(?<=[.!?;])\s+|\s[•·▪●◦]\s*|^\s*[-*•·▪●◦–]\s*", re.M)


@dataclass(frozen=True)
class ConceptText:
    """One label or description of an ESCO concept: the plain rows `build` takes.

    label_type: "preferred" (one per concept and language; the display label),
    "alt", "hidden", "description", or "group" (a label of the ISCO group an
    occupation belongs to: weak evidence, never displayed).
    """

    kind: Kind
    uri: str
    lang: str
    label_type: str
    text: str


@dataclass(frozen=True)
class Suggestion:
    uri: str
    label: str
    confidence: float


@dataclass
class Extraction:
    occupations: list[Suggestion] = field(default_factory=list)
    skills: list[Suggestion] = field(default_factory=list)


def split_text(text: str) -> list[str]:
    """Sentences and lines of an ad, bullets stripped, long ones cut into windows."""
    pieces: list[str] = []
    for part in _SENTENCE.split(text):
        part = part.strip(" \t\r-*•·▪●◦–")
        while len(part) > MAX_PIECE_CHARS:  # cut at a space near the limit
            cut = part.rfind(" ", MAX_PIECE_CHARS // 2, MAX_PIECE_CHARS)
            cut = cut if cut > 0 else MAX_PIECE_CHARS
            pieces.append(part[:cut])
            part = part[cut:].strip()
        if part:
            pieces.append(part)
    return pieces[:MAX_PIECES]


def confidence(kind: Kind, raw: np.ndarray) -> np.ndarray:
    k, s0 = CALIBRATION[kind]
    return 1.0 / (1.0 + np.exp(-k * (raw - s0)))


class _Concepts:
    """One kind of concept: URIs, display labels per language, an index per language."""

    def __init__(self, kind: Kind, rows: Sequence[ConceptText], vocab: GramVocab):
        self.kind = kind
        self.uris: list[str] = list(dict.fromkeys(r.uri for r in rows))
        pos = {u: i for i, u in enumerate(self.uris)}
        self.display: dict[str, list[str]] = {}
        for r in rows:
            if r.label_type == "preferred":
                labels = self.display.setdefault(r.lang, [""] * len(self.uris))
                labels[pos[r.uri]] = labels[pos[r.uri]] or r.text
        by_lang: dict[str, list[Row]] = {}
        for r in rows:
            by_lang.setdefault(r.lang, []).append(Row(pos[r.uri], r.label_type, r.text))
        self.native = frozenset(by_lang)
        # Per language, which concepts have a label of their own in it: Danish
        # skill labels exist only for our youth vocabulary (and wherever an
        # operator loaded ESCO's Danish skills), so "native" is per concept.
        self.labelled: dict[str, np.ndarray] = {}
        for lang, lang_rows in by_lang.items():
            mask = np.zeros(len(self.uris), dtype=bool)
            mask[[r.concept for r in lang_rows if r.kind in ("preferred", "alt", "hidden")]] = True
            self.labelled[lang] = mask
        self.index: dict[str, LabelIndex] = {}
        base = by_lang.get(BASE_LANG, [])
        for lang in {*LANGS, *by_lang}:
            own = by_lang.get(lang, [])
            if lang == BASE_LANG:
                self.index[lang] = LabelIndex(len(self.uris), own, vocab)
            elif own:  # English labels help: titles are often English; no descriptions
                foreign = [
                    Row(r.concept, r.kind, r.text, FOREIGN_FACTOR)
                    for r in base
                    if r.kind not in ("description", "group")
                ]
                self.index[lang] = LabelIndex(len(self.uris), own + foreign, vocab)

    def label(self, i: int, lang: str) -> str:
        own = self.display.get(lang)
        if own and own[i]:
            return own[i]
        base = self.display.get(BASE_LANG)
        return base[i] if base and base[i] else self.uris[i]

    def suggest(self, scores: np.ndarray, lang: str, top: int) -> list[Suggestion]:
        top = min(top, scores.size)
        if top <= 0:
            return []
        best = np.argpartition(-scores, top - 1)[:top]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [
            Suggestion(self.uris[i], self.label(i, lang), round(float(scores[i]), 4))
            for i in best.tolist()
            if scores[i] >= MIN_CONFIDENCE
        ]


class Extractor:
    """ESCO occupations and skills proposed for an ad. Immutable; thread-safe to call."""

    def __init__(
        self,
        occupations: _Concepts,
        skills: _Concepts,
        profiles: dict[int, list[tuple[int, float]]],
    ):
        self._occ, self._skills, self._profiles = occupations, skills, profiles

    @property
    def n_occupations(self) -> int:
        return len(self._occ.uris)

    @property
    def n_skills(self) -> int:
        return len(self._skills.uris)

    @classmethod
    def build(
        cls,
        concepts: Iterable[ConceptText],
        occupation_skills: Iterable[tuple[str, str, str]] = (),
    ) -> Extractor:
        """From label/description rows and (occupation URI, skill URI, essential|optional)."""
        rows = list(concepts)
        vocab = GramVocab([r.text for r in rows])
        occ = _Concepts("occupation", [r for r in rows if r.kind == "occupation"], vocab)
        skills = _Concepts("skill", [r for r in rows if r.kind == "skill"], vocab)
        o_pos = {u: i for i, u in enumerate(occ.uris)}
        s_pos = {u: i for i, u in enumerate(skills.uris)}
        profiles: dict[int, list[tuple[int, float]]] = {}
        for o, s, relation in occupation_skills:
            if o in o_pos and s in s_pos:
                weight = PROFILE_WEIGHT.get(relation, PROFILE_WEIGHT["optional"])
                profiles.setdefault(o_pos[o], []).append((s_pos[s], weight))
        for links in profiles.values():
            links.sort(key=lambda x: -x[1])  # essential first, file order within
        return cls(occ, skills, profiles)

    @classmethod
    async def from_database(cls, session: AsyncSession) -> Extractor:
        """Read active occupations (not ISCO groups) and skills (not groups) with labels."""
        return cls.build(*await read_concepts(session))

    # --- extraction -------------------------------------------------------

    def extract(
        self,
        title: str,
        text: str,
        lang: str,
        top_occupations: int = 5,
        top_skills: int = 10,
    ) -> Extraction:
        title = " ".join(title.split())[:MAX_PIECE_CHARS]
        sentences = split_text(text)
        if not title and not sentences:
            return Extraction()
        occ_raw = self._occupation_scores(title, sentences, lang)
        occ_conf = confidence("occupation", occ_raw)
        occupations = self._occ.suggest(occ_conf, lang, top_occupations)
        skills = self._skill_suggestions(title, sentences, lang, occ_conf, top_skills)
        return Extraction(occupations, skills)

    def _index(self, concepts: _Concepts, lang: str) -> LabelIndex | None:
        return concepts.index.get(lang) or concepts.index.get(BASE_LANG)

    def _occupation_scores(self, title: str, sentences: list[str], lang: str) -> np.ndarray:
        index = self._index(self._occ, lang)
        if index is None:
            return np.zeros(self.n_occupations, dtype=np.float32)
        head = index.scores([title], TITLE_CONTAINMENT)[0] if title else 0.0
        if not sentences:
            return np.asarray(head, dtype=np.float32)
        body = index.scores(sentences, CONTAINMENT).max(axis=0)
        if not title:
            return body * TEXT_FACTOR
        # Title and text vote together: "Bagerimedarbejder" alone looks as much
        # like a brewery worker as a baker; "... vores bageri ..." settles it.
        return np.asarray((1 - TEXT_WEIGHT) * head + TEXT_WEIGHT * body, dtype=np.float32)

    def _profile_boost(self, occ_conf: np.ndarray) -> np.ndarray:
        """Per skill: the best (occupation confidence x profile weight) of the top occupations."""
        boost = np.zeros(self.n_skills, dtype=np.float32)
        k = min(PROFILE_OCCUPATIONS, occ_conf.size)
        if k == 0:
            return boost
        for o in np.argpartition(-occ_conf, k - 1)[:k].tolist():
            links = self._profiles.get(o)
            if links:
                idx = np.fromiter((s for s, _ in links), dtype=np.int64, count=len(links))
                w = np.fromiter((w for _, w in links), dtype=np.float32, count=len(links))
                np.maximum.at(boost, idx, w * float(occ_conf[o]))
        return boost

    def _skill_suggestions(
        self, title: str, sentences: list[str], lang: str, occ_conf: np.ndarray, top: int
    ) -> list[Suggestion]:
        boost = self._profile_boost(occ_conf)
        pieces = sentences + ([title] if title else [])
        native = lang in self._skills.native
        index = self._index(self._skills, lang)
        raw = np.zeros(self.n_skills, dtype=np.float32)
        if index is not None and pieces:
            raw = index.scores(pieces, CONTAINMENT).max(axis=0)
        labelled = self._skills.labelled.get(lang)
        if native and labelled is not None and labelled.all():
            conf = confidence("skill", raw + PROFILE_PRIOR * boost)
        else:
            # No labels in this language: what the occupation needs, plus the
            # English labels the ad quotes nearly verbatim ("Excel", "SQL").
            verbatim = np.where(raw >= VERBATIM, confidence("skill", raw), 0.0)
            # A hair of the raw score orders skills within one profile weight.
            conf = np.maximum(boost + 1e-3 * raw, verbatim)
            if native and labelled is not None:
                # Some skills have labels in this language (Danish: our youth
                # vocabulary, "betjene kassen", "opvask"): those are scored on
                # the text as in English; the rest keep the profile's word.
                own = confidence("skill", raw + PROFILE_PRIOR * boost)
                conf = np.maximum(conf, np.where(labelled, own, 0.0))
        return self._skills.suggest(np.clip(conf, 0.0, 1.0), lang, top)


async def read_concepts(
    session: AsyncSession,
) -> tuple[list[ConceptText], list[tuple[str, str, str]]]:
    """The rows `Extractor.build` takes, from the ESCO tables (columns as arrays: fast)."""

    async def columns(
        *cols: Any, where: Any = None, joins: Sequence[Any] = (), order: Sequence[Any] = ()
    ) -> list[list[Any]]:
        aggs = (func.array_agg(aggregate_order_by(c, *order) if order else c) for c in cols)
        stmt = select(*aggs)
        for target, on in joins:
            stmt = stmt.join(target, on)
        if where is not None:
            stmt = stmt.where(where)
        row = (await session.execute(stmt)).one()
        return [list(v or ()) for v in row]

    skills = await columns(
        Skill.uri,
        Skill.preferred_label,
        Skill.description,
        where=Skill.active & (Skill.skill_type != "group"),
    )
    occs = await columns(
        Occupation.uri,
        Occupation.preferred_label,
        Occupation.description,
        Occupation.isco_code,
        where=Occupation.active & (Occupation.concept_type == "Occupation"),
    )
    labels = await columns(
        ConceptLabel.concept_uri,
        ConceptLabel.lang,
        ConceptLabel.label_type,
        ConceptLabel.label,
        where=ConceptLabel.lang.in_(LANGS),
        # Our easy-Danish preferred label is the displayed one (the first wins);
        # the id keeps the four arrays in one order.
        order=(ConceptLabel.source != "youth_da", ConceptLabel.id),
    )
    links = await columns(
        Occupation.uri,
        Skill.uri,
        OccupationSkill.relation_type,
        joins=[
            (Occupation, Occupation.id == OccupationSkill.occupation_id),
            (Skill, Skill.id == OccupationSkill.skill_id),
        ],
    )
    return concept_rows(skills, occs, labels), list(zip(*links, strict=True))


def concept_rows(
    skills: Sequence[Sequence[str]],
    occupations: Sequence[Sequence[str]],
    labels: Sequence[Sequence[str]],
) -> list[ConceptText]:
    """Rows from columns: skills (uri, label, description), occupations (uri, label,
    description, isco code), labels (uri, lang, label type, label) of any concept."""
    kind: dict[str, Kind] = {u: "skill" for u in skills[0]}
    kind.update({u: "occupation" for u in occupations[0]})
    rows: list[ConceptText] = []
    parts: tuple[tuple[Kind, Sequence[Sequence[str]]], ...] = (
        ("skill", skills),
        ("occupation", occupations),
    )
    for k, cols in parts:
        for uri, pref, desc in zip(cols[0], cols[1], cols[2], strict=True):
            rows.append(ConceptText(k, uri, BASE_LANG, "preferred", pref))
            if desc:
                rows.append(ConceptText(k, uri, BASE_LANG, "description", desc))
    group_uri = {
        u: f"http://data.europa.eu/esco/isco/C{c}"
        for u, c in zip(occupations[0], occupations[3], strict=True)
        if c
    }
    members: dict[str, list[str]] = {}
    for occ, group in group_uri.items():
        members.setdefault(group, []).append(occ)
    for uri, lang, label_type, label in zip(*labels, strict=True):
        if uri in kind and not (lang == BASE_LANG and label_type == "preferred"):
            rows.append(ConceptText(kind[uri], uri, lang, label_type, label))
        elif label_type == "preferred":
            for occ in members.get(uri, ()):
                rows.append(ConceptText("occupation", occ, lang, "group", label))
    return rows
