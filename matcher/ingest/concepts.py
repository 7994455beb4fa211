"""An ad's occupation and skills, as the vacancy columns hold them.

The importer codes against two small Protocols: `SkillExtractor` (what
matcher.extraction.extract.Extractor provides: ESCO suggestions with confidences for a
title and text) and `ConceptResolver` (URI -> id; matcher.esco.taxonomy.Taxonomy).
An ad that names its own occupation (Jobnet's Danish label and STAR URI) gets
that occupation through an `OccupationFinder` (a loaded STAR -> ESCO crosswalk
first, else the Danish label); the extractor's occupation is the fallback.
What the suggestions become. The extractor's confidences are calibrated on
benchmarks and may be rescaled when it is retuned; its ranking is the more
trustworthy part (docs/quality.md). So the rules are relative to the ad's best
suggestion, with low absolute floors that only drop noise:

- the occupation: the most confident one, if at least `OCCUPATION_MIN`;
- required skills: those within `REQUIRED_SHARE` of the best skill's
  confidence (and above `SKILL_MIN`), weighted by confidence / best, so the
  best counts 1.0 and a less certain one less (weights are relative within a
  vacancy: 1 = normal);
- optional skills: the rest above `SKILL_MIN`;
- at most `MAX_REQUIRED` / `MAX_OPTIONAL`, most confident first; URIs retired
  since the extractor was built are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from matcher.esco.profile_by_occupation import infer as infer_profile
from matcher.esco.taxonomy import UnknownConceptError, WrongConceptKindError
from matcher.ingest.jobnet_mapping import AdRecord

OCCUPATION_MIN = 0.25
SKILL_MIN = 0.1
REQUIRED_SHARE = 0.8
MAX_REQUIRED = 8
MAX_OPTIONAL = 8


class Concept(Protocol):
    @property
    def uri(self) -> str: ...
    @property
    def confidence(self) -> float: ...


class Extracted(Protocol):
    @property
    def occupations(self) -> Sequence[Concept]: ...
    @property
    def skills(self) -> Sequence[Concept]: ...


class SkillExtractor(Protocol):
    """matcher.extraction.extract.Extractor, or anything that proposes ESCO concepts for an ad."""

    def extract(self, title: str, text: str, lang: str) -> Extracted: ...


class OccupationFinder(Protocol):
    """The source's own occupation -> an ESCO occupation URI (matcher/ingest/occupations.py).

    Returns (uri, how) with how in "crosswalk" | "label" | "fuzzy_label", or None."""

    def find(self, star_uri: str | None, label: str | None) -> tuple[str, str] | None: ...


class ConceptResolver(Protocol):
    """URI -> id (matcher.esco.taxonomy.Taxonomy); raises UnknownConceptError."""

    def resolve_skills(self, uris: Sequence[str]) -> list[int]: ...
    def resolve_occupation(self, uri: str) -> int: ...


def vacancy_concepts(
    extractor: SkillExtractor,
    resolver: ConceptResolver,
    ad: AdRecord,
    occupations: OccupationFinder | None = None,
) -> tuple[dict[str, Any], str]:
    """The skill and occupation columns, and how the occupation was found
    ("crosswalk", "label", "fuzzy_label", "extracted" or "none")."""
    found = extractor.extract(ad.title, ad.text, ad.lang)
    occupation_id, how = None, "none"
    if occupations is not None and (ad.occupation_star_uri or ad.occupation_label):
        given = occupations.find(ad.occupation_star_uri, ad.occupation_label)
        if given is not None:
            occupation_id = _resolve(resolver, "occupation", given[0])
            how = given[1] if occupation_id is not None else how
    for s in sorted(found.occupations, key=lambda s: -s.confidence):
        if occupation_id is not None:
            break
        if s.confidence < OCCUPATION_MIN:
            break
        occupation_id = _resolve(resolver, "occupation", s.uri)
        if occupation_id is not None:
            how = "extracted"
            break
    required: list[int] = []
    weights: list[float] = []
    optional: list[int] = []
    skills = sorted(found.skills, key=lambda s: -s.confidence)
    best = skills[0].confidence if skills else 0.0
    for s in skills:
        if s.confidence < SKILL_MIN:
            break
        skill_id = _resolve(resolver, "skill", s.uri)
        if skill_id is None or skill_id in required or skill_id in optional:
            continue
        if s.confidence >= REQUIRED_SHARE * best and len(required) < MAX_REQUIRED:
            required.append(skill_id)
            weights.append(round(float(s.confidence / best), 2))
        elif len(optional) < MAX_OPTIONAL:
            optional.append(skill_id)
    # What the occupation makes likely about the work (our table, not the ad's).
    isco = getattr(resolver, "occupation_isco", None)
    work_profile = (
        infer_profile(isco(occupation_id)) if occupation_id is not None and isco else None
    )
    return {
        "occupation_id": occupation_id,
        "work_profile": work_profile,
        "required_skill_ids": required,
        "required_skill_weights": weights,
        "optional_skill_ids": optional,
    }, how


def _resolve(resolver: ConceptResolver, kind: str, uri: str) -> int | None:
    try:
        if kind == "occupation":
            return resolver.resolve_occupation(uri)
        return resolver.resolve_skills([uri])[0]
    except UnknownConceptError:  # retired since the extractor was built
        return None
    except WrongConceptKindError:  # a group, not a concept a vacancy may name
        return None
