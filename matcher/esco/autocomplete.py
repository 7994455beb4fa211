"""Autocomplete for people who write little: the best ESCO concepts for a few typed letters.

    >>> index.search("baarista", lang="da", limit=3)      # doctest: +SKIP
    [Suggestion(uri=".../occupation/...", label="barista", lang="da", matched_label="barista", ...)]

Why an in-memory index and not pg_trgm
--------------------------------------
The first design was PostgreSQL's pg_trgm: a folded label column, a GIN trigram
index, `label_norm %> q` to find candidates and `word_similarity` plus prefix
bonuses to rank them. It is typo-tolerant, but autocomplete queries are short
and the vocabulary of ESCO is not: "man", "manage", "operate", "use " occur in
thousands of labels, so the index hands back 5,000-12,000 candidates and the
recheck alone (word_similarity, ~10 us per label) took 40-55 ms at p99 for
realistic prefixes of 3-8 letters; GiST KNN (`<->>`) was no better (50 ms).
Ranking must look at every candidate, so no trigram index avoids that work.

So the labels (about 71k for English + Danish, ~10 MB) are held per process,
loaded once at startup like `matcher.esco.taxonomy`, in two inverted structures:

* **word tails, sorted**: every label once per word start ("bank manager" ->
  "bank manager", "manager"). A prefix query is two `bisect`s and a slice: all
  labels having a word that starts with the typed text, and whether it is the
  label's first word. This is what makes "kas" -> kasseassistent instant.
* **trigram postings**: label ids per pg_trgm-style trigram of each word
  ("  b", " ba", "bar", ..., "ta "). Counting the query's trigrams over the
  postings (`np.bincount`) gives, for every label at once, the share of the
  query's trigrams it contains: typos ("baarista", "cofee") and inflections
  ("bagere" for bager) still share most of them. The last typed word's closing
  trigram is left out: it is probably not finished.

Scoring is vectorised over the candidates (NumPy), the best label per concept
wins, and the top `limit` concepts are returned: 0.1-2 ms per query over the
full taxonomy (docs/benchmarks.md). A re-import of ESCO is seen after a restart,
as for the taxonomy.

Folding: lower case; æ/ø/å spelled ae/oe/aa (the Danish transliteration, also
what a keyboard without them produces: "rengoering"); other accents dropped
("café" -> "cafe"); anything not a letter or digit separates words. Labels with
æ/ø/å are indexed a second time with a/o/a, the other way people type them
("rengoring", "kobe"), so both spellings are prefix matches. A light
inflection rule (`stem`) strips Danish/English endings (bagere -> bag,
kokke -> kok, cleaners -> clean) for an extra, smaller prefix bonus.

Languages: occupations have Danish (ESCO) and English labels; skills have
English labels, Danish ones from our easy-Danish youth vocabulary
(matcher/esco/youth_vocab.py: "Betjene kassen", found by "kasse", "kasseapparat"...)
and, where an operator loaded them, ESCO's official Danish labels.
A Danish query searches Danish and English labels (young people type "barista"
and "sales assistant"), with a small bonus for Danish; each suggestion's label
is the concept's preferred label in the asked language if it has one, else in
English, and says which (`lang`). Only active concepts; skill groups and ISCO
groups are left out (one picks a concrete skill or occupation).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.errors import NotFound
from matcher.esco.taxonomy import Taxonomy, UnknownConceptError

LANGS: tuple[str, ...] = ("da", "en")
FALLBACK_LANG = "en"
MAX_QUERY_CHARS = 100

# What is loaded: labels of active concepts that one picks (no skill or ISCO groups).
# The first preferred label per concept and language is the one shown: for
# skills, our easy-Danish label (source youth_da) before an official ESCO one.
SKILL_LABELS_SQL = """
SELECT l.concept_uri, l.lang, l.label_type, l.label
FROM concept_labels l
JOIN skills s ON s.uri = l.concept_uri
WHERE s.active AND s.skill_type <> 'group' AND l.concept_type <> 'SkillGroup'
ORDER BY l.concept_uri, l.lang, l.label_type DESC, l.source <> 'youth_da', l.label
"""

OCCUPATION_LABELS_SQL = """
SELECT l.concept_uri, l.lang, l.label_type, l.label
FROM concept_labels l
JOIN occupations o ON o.uri = l.concept_uri
WHERE o.active AND o.concept_type = 'Occupation'
ORDER BY l.concept_uri, l.lang, l.label_type DESC, l.label
"""

# Score parts. A prefix match outranks any fuzzy one; within a kind of match,
# preferred labels, the asked language and shorter labels win.
LABEL_PREFIX = 1.0  # the label starts with the query
WORD_PREFIX = 0.6  # a later word of the label starts with it
STEM_PREFIX = 0.4  # a word starts with the query minus its inflection
EXACT = 0.3  # the label is the query
LABEL_TYPE_BONUS = {"preferred": 0.1, "alt": 0.05, "hidden": 0.0}
LANG_BONUS = 0.05
LENGTH_PENALTY, MAX_LENGTH_PENALTY = 0.002, 0.2
MIN_SIMILARITY = 0.5  # share of the query's trigrams a fuzzy candidate must have
PRESELECT = 2000  # candidates sorted in full; a concept has at most a few dozen labels

_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue",
                       "ß": "ss", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th"})  # fmt: skip
_NON_WORD = re.compile(r"[^a-z0-9]+")
_TWO_SPACES = (ord(" ") << 8) | ord(" ")
_ENDINGS = ("erne", "ene", "ere", "ers", "er", "en", "et", "es", "s", "e")


def fold(text_: str) -> str:
    """The searchable form of a label or query: "Rengøringsassistent!" -> "rengoeringsassistent"."""
    lowered = text_.lower().translate(_FOLD)
    if not lowered.isascii():  # drop the remaining accents: é -> e + combining mark -> e
        decomposed = unicodedata.normalize("NFKD", lowered)
        lowered = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", lowered).strip()


_SHORT = str.maketrans({"æ": "a", "ø": "o", "å": "a"})


def fold_short(text_: str) -> str:
    """The other way Danish letters get typed without a Danish keyboard, one
    letter each: "Rengøring" -> "rengoring", "Græs" -> "gras" ("" if no æ/ø/å)."""
    lowered = text_.lower()
    return fold(lowered.translate(_SHORT)) if lowered.translate(_SHORT) != lowered else ""


def stem(word: str) -> str:
    """Strip one Danish/English inflection ending, keep at least 3 letters: kokke -> kok."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouy":
                word = word[:-1]  # Danish doubles a consonant before an ending
            return word
    return word


def _padded(folded: str) -> str:
    return "".join(f"  {w} " for w in folded.split())


def _codes(padded: bytes) -> np.ndarray:
    """Trigram codes (c0 << 16 | c1 << 8 | c2) at every position of ASCII text."""
    b = np.frombuffer(padded, dtype=np.uint8).astype(np.int32)
    if b.size < 3:
        return np.zeros(0, dtype=np.int32)
    return (b[:-2] << 16) | (b[1:-1] << 8) | b[2:]


def trigrams(folded: str, *, open_end: bool = False) -> np.ndarray:
    """pg_trgm's trigrams of each word ("  w", " wo", ..., "rd ") as distinct codes;
    `open_end` omits the last word's closing trigram (it is still being typed).

    Trigrams spanning two padded words ("d  ", "   ") are dropped: they end in two
    spaces, which no real trigram does."""
    padded = _padded(folded)
    if open_end:
        padded = padded[:-1]
    codes = _codes(padded.encode("ascii"))
    return np.unique(codes[(codes & 0xFFFF) != _TWO_SPACES])


@dataclass(frozen=True, slots=True)
class Suggestion:
    uri: str
    label: str  # the concept's preferred label in `lang`
    lang: str  # the asked language, or FALLBACK_LANG when the concept has no label in it
    matched_label: str  # the label that matched the query (preferred, alt or hidden)
    matched_lang: str
    score: float


@dataclass(frozen=True, slots=True)
class Labelled:
    uri: str
    label: str
    lang: str


@dataclass(frozen=True, slots=True)
class OccupationSkills:
    """An occupation's ESCO profile: the skills to suggest once it is chosen."""

    occupation: Labelled
    essential: list[Labelled]
    optional: list[Labelled]


LabelRow = tuple[str, str, str, str]  # (concept_uri, lang, label_type, label)


class LabelIndex:
    """The labels of one kind of concept (skills or occupations), searchable."""

    def __init__(self, rows: Iterable[LabelRow]):
        concept_of: dict[str, int] = {}
        self.uris: list[str] = []
        self.preferred: dict[tuple[int, str], str] = {}
        labels, norms, concept, lang, bonus = [], [], [], [], []
        seen: set[tuple[int, str]] = set()
        for uri, label_lang, label_type, label in rows:
            norm = fold(label)
            c = concept_of.setdefault(uri, len(concept_of))
            if c == len(self.uris):
                self.uris.append(uri)
            if label_type == "preferred":
                self.preferred.setdefault((c, label_lang), label)
            # A label with æ/ø/å is also indexed the way a keyboard without them
            # gets typed the short way: "rengoring", "kobe" (see fold_short).
            for form in dict.fromkeys((norm, fold_short(label) if norm else "")):
                if not form or (c, f"{label_lang}:{form}") in seen:
                    continue  # a label differing only in case or punctuation adds nothing
                seen.add((c, f"{label_lang}:{form}"))
                labels.append(label)
                norms.append(form)
                concept.append(c)
                lang.append(label_lang)
                bonus.append(LABEL_TYPE_BONUS.get(label_type, 0.0))
        self.labels, self.norms, self.label_lang = labels, norms, lang
        self._uri_pos = concept_of
        self.concept = np.asarray(concept, dtype=np.int32)
        lengths = np.asarray([len(n) for n in norms], dtype=np.float32)
        # The part of the score that does not depend on the query.
        self.static = np.asarray(bonus, dtype=np.float32) - np.minimum(
            lengths * LENGTH_PENALTY, MAX_LENGTH_PENALTY
        )
        self._lang_code = {lg: i for i, lg in enumerate(sorted(set(lang)))}
        self.lang_idx = np.asarray([self._lang_code[lg] for lg in lang], dtype=np.int8)
        self._build_tails()
        self._build_postings()

    def _build_tails(self) -> None:
        tails: list[tuple[str, int, bool]] = []
        for i, norm in enumerate(self.norms):
            tails.append((norm, i, True))
            tails.extend((norm[m.end() :], i, False) for m in re.finditer(" ", norm))
        tails.sort()
        self.tails = [t[0] for t in tails]
        self.tail_label = np.asarray([t[1] for t in tails], dtype=np.int32)
        self.tail_first = np.asarray([t[2] for t in tails], dtype=bool)

    def _build_postings(self) -> None:
        """label ids per trigram code, all at once: the padded labels end to end, a
        code at every position, (code, label) pairs sorted and deduplicated."""
        padded = [_padded(n).encode("ascii") for n in self.norms]
        lengths = np.fromiter((len(p) for p in padded), dtype=np.int64, count=len(padded))
        codes = _codes(b"".join(padded))
        label = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)[: codes.size]
        keep = (codes & 0xFFFF) != _TWO_SPACES  # also every code spanning two labels
        pairs = np.sort(codes[keep].astype(np.int64) << 32 | label[keep])  # sort beats unique
        if pairs.size == 0:  # no labels (a database without ESCO): nothing to find
            self.postings = {}
            return
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]
        code = pairs >> 32
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        ids = (pairs & 0xFFFFFFFF).astype(np.int32)
        bounds = [*starts.tolist(), ids.size]
        self.postings = {int(code[b]): ids[b : bounds[k + 1]] for k, b in enumerate(bounds[:-1])}

    def __len__(self) -> int:
        return len(self.norms)

    def _prefix(self, folded: str) -> tuple[np.ndarray, np.ndarray, int]:
        """Labels with a word starting with `folded`, whether it is the first word, and
        how many of them (at the front: they sort first) are exactly `folded`."""
        lo = bisect.bisect_left(self.tails, folded)
        hi = bisect.bisect_left(self.tails, folded + "\uffff", lo)
        exact = bisect.bisect_right(self.tails, folded, lo, hi) - lo
        return self.tail_label[lo:hi], self.tail_first[lo:hi], exact

    def _similarity(self, folded: str) -> np.ndarray:
        grams = trigrams(folded, open_end=True).tolist()
        hits = [self.postings[g] for g in grams if g in self.postings]
        if not grams or not hits:
            return np.zeros(len(self), dtype=np.float32)
        counts = np.bincount(np.concatenate(hits), minlength=len(self))
        return counts.astype(np.float32) / len(grams)

    def search(self, query: str, lang: str, limit: int = 10) -> list[Suggestion]:
        folded = fold(query)
        if not folded or not len(self):
            return []
        score = self._similarity(folded)
        fuzzy = score >= MIN_SIMILARITY
        score[~fuzzy] = 0.0
        bonus = np.zeros(len(self), dtype=np.float32)
        last = folded.rsplit(" ", 1)[-1]
        short = stem(last)
        if short != last:
            ids, _, _ = self._prefix(folded[: len(folded) - len(last)] + short)
            bonus[ids] = STEM_PREFIX
        ids, first, exact = self._prefix(folded)
        bonus[ids[~first]] = WORD_PREFIX
        bonus[ids[first]] = LABEL_PREFIX
        bonus[ids[:exact][first[:exact]]] = LABEL_PREFIX + EXACT
        candidate = fuzzy | (bonus > 0)
        allowed = [c for lg, c in self._lang_code.items() if lg in (lang, FALLBACK_LANG)]
        candidate &= np.isin(self.lang_idx, allowed)
        cand = np.flatnonzero(candidate)
        if cand.size == 0:
            return []
        total = score[cand] + bonus[cand] + self.static[cand]
        if lang in self._lang_code:
            total += np.where(self.lang_idx[cand] == self._lang_code[lang], LANG_BONUS, 0.0)
        return self._best(cand, total.astype(np.float32), lang, limit)

    def _best(self, cand: np.ndarray, total: np.ndarray, lang: str, limit: int) -> list[Suggestion]:
        """The best label of each concept, best concepts first."""
        if cand.size > PRESELECT:
            keep = np.argpartition(-total, PRESELECT)[:PRESELECT]
            cand, total = cand[keep], total[keep]
        order = np.argsort(-total, kind="stable")
        cand, total = cand[order], total[order]
        _, first = np.unique(self.concept[cand], return_index=True)
        first.sort()
        out = []
        for pos in first[:limit].tolist():
            i = int(cand[pos])
            c = int(self.concept[i])
            shown_lang = lang if (c, lang) in self.preferred else FALLBACK_LANG
            out.append(
                Suggestion(
                    uri=self.uris[c],
                    label=self.preferred.get((c, shown_lang), self.labels[i]),
                    lang=shown_lang,
                    matched_label=self.labels[i],
                    matched_lang=self.label_lang[i],
                    score=round(float(total[pos]), 4),
                )
            )
        return out

    def preferred_label(self, uri: str, lang: str) -> tuple[str, str] | None:
        """(label, its language) of a concept in `lang`, else in English; None if unknown."""
        c = self._uri_pos.get(uri)
        if c is None:
            return None
        for lg in (lang, FALLBACK_LANG):
            if (c, lg) in self.preferred:
                return self.preferred[(c, lg)], lg
        return None


class Autocomplete:
    """Skills and occupations, each a `LabelIndex`; built once per process."""

    def __init__(self, skills: Sequence[LabelRow], occupations: Sequence[LabelRow]):
        self.skills = LabelIndex(skills)
        self.occupations = LabelIndex(occupations)

    @classmethod
    async def load(cls, session: AsyncSession) -> Autocomplete:
        async def rows(sql: str) -> list[LabelRow]:
            return [(r[0], r[1], r[2], r[3]) for r in await session.execute(text(sql))]

        self = cls(await rows(SKILL_LABELS_SQL), await rows(OCCUPATION_LABELS_SQL))
        self.occupations.search("warm up", "da", 1)  # NumPy's first calls are slow
        return self

    def occupation_skills(self, taxonomy: Taxonomy, uri: str, lang: str) -> OccupationSkills:
        """Essential and optional skills of an active occupation, labelled in `lang`
        (or English); NotFound for an unknown or retired occupation URI."""
        try:
            occupation_id = taxonomy.resolve_occupation(uri)
        except UnknownConceptError:
            raise NotFound(f"no active ESCO occupation with URI {uri}") from None
        essential, optional = taxonomy.occupation_skills(occupation_id)
        label = self.occupations.preferred_label(uri, lang)
        shown = label or (taxonomy.occupation_label(occupation_id), FALLBACK_LANG)

        def skill(skill_id: int) -> Labelled:
            skill_uri = taxonomy.skill_uri(skill_id)
            found = self.skills.preferred_label(skill_uri, lang)
            text_, text_lang = found or (taxonomy.skill_label(skill_id), FALLBACK_LANG)
            return Labelled(skill_uri, text_, text_lang)

        return OccupationSkills(
            occupation=Labelled(uri, *shown),
            essential=[skill(i) for i in essential],
            optional=[skill(i) for i in optional],
        )
