"""The ESCO skills taxonomy in memory: URI <-> id, labels, and skill credit.

Loaded once per process (`await Taxonomy.load(session)`, a few queries) and
read on every request, so it is immutable and lookups are dicts and arrays.

Skill credit
------------
`credit_vector(held)` answers, for every skill id at once, "how much of this
skill does a seeker holding `held` bring to a vacancy that requires it?". The
scorer indexes it with a vacancy's required ids, so a batch of thousands of
vacancies is scored with one fancy-index. The credit is the best single path:

    1.0   the skill itself.
    0.8, 0.6, 0.4, 0.2   the required skill is 1, 2, 3, 4 levels *broader* than a
          held one (ESCO skill -> broader skill -> skill group ...). Someone who
          can "use Haskell" can do part of "computer programming"; each level up
          the required concept covers more ground the seeker may not have. Skill
          groups are broader concepts too. Beyond four levels (the top groups,
          e.g. "knowledge") the link says nothing useful.
    0.5 / 0.4   the held skill lists the required one as an essential /
          optional related skill (skillSkillRelations: "recommend wines" ->
          "wine characteristics"). ESCO states what a holder of the first also
          needs, so holding it implies much of the second.
    0.4   the required skill is one level *narrower* than a held one: "computer
          programming" is evidence for, not proof of, "use Haskell". Only one
          level, or a seeker claiming a whole group would match everything in it.
    0.3 / 0.2   the reverse of a related-skill link (holding the knowledge an
          activity needs is a smaller step toward the activity itself).

Paths are not chained (related-of-broader gets nothing): each extra hop halves
confidence and would make every seeker a partial match for everything.

All of this is precomputed at load as one sparse matrix in CSR form (row = held
skill, columns = skills it earns credit for, max over paths), so
`credit_vector` is a slice gather plus `np.maximum.at`: 25-65 us for 20 skills
over full ESCO (14.5k slots, 114k precomputed entries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.errors import Invalid
from matcher.esco.occupations import OccupationIndex
from matcher.models import (
    ConceptLabel,
    Occupation,
    OccupationSkill,
    Skill,
    SkillBroader,
    SkillRelation,
)

BROADER_CREDIT: tuple[float, ...] = (0.8, 0.6, 0.4, 0.2)
NARROWER_CREDIT = 0.4
RELATED_CREDIT: Mapping[str, float] = {"essential": 0.5, "optional": 0.4}
RELATED_REVERSE_CREDIT: Mapping[str, float] = {"essential": 0.3, "optional": 0.2}
# skills.preferred_label is in this language (the primary ESCO set's); others
# come from concept_labels.
BASE_LANG = "en"

# (id, uri, preferred label) or (id, uri, preferred label, active)
ConceptRow = tuple[int, str, str] | tuple[int, str, str, bool]


class UnknownConceptError(Invalid):
    """URIs that are not (or no longer) active ESCO concepts; rendered as HTTP 422."""

    code = "unknown_concept"

    def __init__(self, kind: str, unknown_uris: Sequence[str], field: str | None = None):
        self.kind = kind
        self.unknown_uris = tuple(dict.fromkeys(unknown_uris))
        shown = ", ".join(self.unknown_uris[:5])
        more = f" and {len(self.unknown_uris) - 5} more" if len(self.unknown_uris) > 5 else ""
        where, extra = (f"{field}: ", {"field": field}) if field else ("", {})
        super().__init__(
            f"{where}unknown or retired ESCO {kind} URI(s): {shown}{more}",
            [{"kind": kind, "uri": u, **extra} for u in self.unknown_uris],
        )


class WrongConceptKindError(Invalid):
    """ESCO URIs of another kind than the field takes (an ISCO group given as an
    occupation, a skill group as a skill); rendered as HTTP 422."""

    code = "wrong_concept_kind"

    def __init__(self, field: str, expected: str, wrong: Sequence[tuple[str, str]]):
        self.field, self.expected = field, expected
        shown = "; ".join(f"{uri} is an ESCO {kind}" for uri, kind in wrong[:5])
        super().__init__(
            f"{field} takes ESCO {expected} URIs only: {shown}",
            [{"field": field, "expected": expected, "uri": u, "kind": k} for u, k in wrong],
        )


class _Concepts:
    """id <-> uri and labels for one kind of concept."""

    def __init__(
        self,
        kind: str,
        ids: Sequence[int],
        uris: Sequence[str],
        labels: Sequence[str],
        active: Sequence[bool],
        other_kind: dict[str, str] | None = None,
    ):
        """`other_kind`: URIs held for the hierarchy (credit flows through them) that
        a field of this kind does not take, with what they are ("skill group")."""
        self.kind = kind
        self.uri = dict(zip(ids, uris, strict=True))
        self.label = dict(zip(ids, labels, strict=True))
        self.active_id = {u: i for i, u, a in zip(ids, uris, active, strict=True) if a}
        self.other_kind = other_kind or {}

    @classmethod
    def from_rows(cls, kind: str, rows: Iterable[ConceptRow]) -> _Concepts:
        rows = list(rows)
        active = [bool(r[3]) if len(r) > 3 else True for r in rows]  # type: ignore[misc]
        return cls(kind, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], active)

    def resolve(
        self, uris: Sequence[str], field: str | None = None, any_kind: bool = False
    ) -> list[int]:
        ids = [self.active_id.get(u, -1) for u in uris]
        if -1 in ids:
            raise UnknownConceptError(
                self.kind, [u for u, i in zip(uris, ids, strict=True) if i < 0], field
            )
        wrong = [(u, self.other_kind[u]) for u in dict.fromkeys(uris) if u in self.other_kind]
        if wrong and not any_kind:
            raise WrongConceptKindError(field or self.kind, _EXPECTED[self.kind], wrong)
        return ids


# What each kind of field takes, in the words of the error message.
_EXPECTED = {
    "skill": "skill, knowledge or competence",
    "occupation": "occupation",
}
# How the stored type columns name the concepts a field does not take.
_SKILL_TYPES_NOT_TAKEN = {"group": "skill group"}
_OCCUPATION_TYPES_TAKEN = "Occupation"


def _ints(values: Iterable[int] | None) -> np.ndarray:
    return np.asarray(list(values or ()), dtype=np.int64)


class Taxonomy:
    """Read-only view of skills, occupations and the credit between skills."""

    def __init__(
        self,
        *,
        skills: Iterable[ConceptRow],
        broader: Iterable[tuple[int, int]] = (),
        related: Iterable[tuple[int, int, str]] = (),
        occupations: Iterable[ConceptRow] = (),
        occupation_skills: Iterable[tuple[int, int, str]] = (),
        skill_labels: Mapping[str, Mapping[int, str]] | None = None,
        occupation_isco: Mapping[int, str] | None = None,
        occupation_labels: Mapping[str, Mapping[int, str]] | None = None,
    ):
        """Build from plain rows (handy for unit tests; `load` reads columns instead).

        skills/occupations: (id, uri, label[, active]); broader: (skill_id,
        broader_id); related: (skill_id, related_id, "essential" | "optional");
        occupation_skills: (occupation_id, skill_id, "essential" | "optional").
        skill_labels: {lang: {skill_id: label}} for languages other than BASE_LANG.
        occupation_isco: {occupation_id: ISCO-08 code}; occupation_labels as skill_labels.
        """
        b, r, o = list(broader), list(related), list(occupation_skills)
        self._skill_labels = {lang: dict(m) for lang, m in (skill_labels or {}).items()}
        self._occupation_labels = {lang: dict(m) for lang, m in (occupation_labels or {}).items()}
        self._isco = dict(occupation_isco or {})
        self._build(
            _Concepts.from_rows("skill", skills),
            _Concepts.from_rows("occupation", occupations),
            broader=(_ints(x[0] for x in b), _ints(x[1] for x in b)),
            related=(_ints(x[0] for x in r), _ints(x[1] for x in r), _essential(x[2] for x in r)),
            profiles=(_ints(x[0] for x in o), _ints(x[1] for x in o), _essential(x[2] for x in o)),
        )

    def _build(
        self,
        skills: _Concepts,
        occupations: _Concepts,
        broader: tuple[np.ndarray, np.ndarray],
        related: tuple[np.ndarray, np.ndarray, np.ndarray],
        profiles: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        self._skills, self._occupations = skills, occupations
        self._n = max(skills.uri, default=-1) + 1
        self._profile: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {
            o: ((), ()) for o in occupations.uri
        }
        occ, skill, essential = profiles
        # Sort by occupation, essential first, then split into runs per occupation.
        order = np.lexsort((skill, ~essential, occ))
        occ, skill, essential = occ[order], skill[order], essential[order]
        heads, starts = np.unique(occ, return_index=True)
        ends = [*starts[1:].tolist(), occ.size] if occ.size else []
        for o, start, end in zip(heads.tolist(), starts.tolist(), ends, strict=True):
            part, ess = skill[start:end], essential[start:end]
            self._profile[o] = (tuple(part[ess].tolist()), tuple(part[~ess].tolist()))
        self._indptr, self._cols, self._credit = _credit_matrix(self._n, broader, related)
        # ISCO groups are not in `occupations.active_id`'s kind: only occupations
        # have profiles and can be a vacancy's or a wish's occupation.
        occ_ids = [i for i, u in occupations.uri.items() if u not in occupations.other_kind]
        self.occupation_index = OccupationIndex(
            self._n, np.asarray(occ_ids, dtype=np.int64), self._isco, profiles
        )

    @classmethod
    async def load(cls, session: AsyncSession) -> Taxonomy:
        """Read the whole taxonomy (inactive concepts too: old profiles still refer to them).

        Each table comes back as one row of arrays: asyncpg decodes arrays in C,
        several times faster than building a Row object per link (~130k of them).
        """

        async def columns(*cols: Any) -> list[list[Any]]:
            row = (await session.execute(select(*(func.array_agg(c) for c in cols)))).one()
            return [list(v or ()) for v in row]

        def concepts(kind: str, cols: list[list[Any]], other: dict[str, str]) -> _Concepts:
            return _Concepts(kind, cols[0], cols[1], cols[2], cols[3], other)

        skills = await columns(
            Skill.id, Skill.uri, Skill.preferred_label, Skill.active, Skill.skill_type
        )
        occupations = await columns(
            Occupation.id,
            Occupation.uri,
            Occupation.preferred_label,
            Occupation.active,
            Occupation.concept_type,
            Occupation.isco_code,
        )
        skill_others = {
            uri: _SKILL_TYPES_NOT_TAKEN[t]
            for uri, t in zip(skills[1], skills[4], strict=True)
            if t in _SKILL_TYPES_NOT_TAKEN
        }
        # An ISCO group is stored beside the occupations (concept_type 'ISCOGroup').
        occupation_others = {
            uri: "ISCO group" if t == "ISCOGroup" else str(t)
            for uri, t in zip(occupations[1], occupations[4], strict=True)
            if t != _OCCUPATION_TYPES_TAKEN
        }
        broader = await columns(SkillBroader.skill_id, SkillBroader.broader_id)
        related = await columns(
            SkillRelation.skill_id,
            SkillRelation.related_id,
            SkillRelation.relation_type == "essential",
        )
        profiles = await columns(
            OccupationSkill.occupation_id,
            OccupationSkill.skill_id,
            OccupationSkill.relation_type == "essential",
        )
        # One display label per skill and language: our easy-Danish label
        # (source youth_da) before ESCO's own, as autocomplete does.
        labels = await session.execute(
            select(Skill.id, ConceptLabel.lang, ConceptLabel.label)
            .join(Skill, Skill.uri == ConceptLabel.concept_uri)
            .where(ConceptLabel.label_type == "preferred", ConceptLabel.lang != BASE_LANG)
            .order_by(
                Skill.id,
                ConceptLabel.lang,
                ConceptLabel.source != "youth_da",
                ConceptLabel.label,
            )
        )
        occupation_labels = await session.execute(
            select(Occupation.id, ConceptLabel.lang, ConceptLabel.label)
            .join(Occupation, Occupation.uri == ConceptLabel.concept_uri)
            .where(ConceptLabel.label_type == "preferred", ConceptLabel.lang != BASE_LANG)
            .order_by(Occupation.id, ConceptLabel.lang, ConceptLabel.label)
        )
        self = cls.__new__(cls)
        self._skill_labels = {}
        for skill_id, lang, label in labels:
            self._skill_labels.setdefault(lang, {}).setdefault(skill_id, label)
        self._occupation_labels = {}
        for occ_id, lang, label in occupation_labels:
            self._occupation_labels.setdefault(lang, {}).setdefault(occ_id, label)
        self._isco = dict(zip(occupations[0], (c or "" for c in occupations[5]), strict=True))
        self._build(
            concepts("skill", skills, skill_others),
            concepts("occupation", occupations, occupation_others),
            broader=(_ints(broader[0]), _ints(broader[1])),
            related=(_ints(related[0]), _ints(related[1]), np.asarray(related[2], dtype=bool)),
            profiles=(_ints(profiles[0]), _ints(profiles[1]), np.asarray(profiles[2], dtype=bool)),
        )
        return self

    # --- lookups ---------------------------------------------------------------

    @property
    def n_slots(self) -> int:
        """Length of a credit vector: the largest skill id + 1."""
        return self._n

    def resolve_skills(
        self, uris: Sequence[str], field: str | None = None, any_kind: bool = False
    ) -> list[int]:
        """Ids of active skills, one per URI in order; UnknownConceptError lists the
        rest, WrongConceptKindError skill groups (`field` names the input in both).
        `any_kind`: skill groups too, for lookups that are not someone's input."""
        return self._skills.resolve(uris, field, any_kind)

    def resolve_occupation(self, uri: str, field: str | None = None) -> int:
        """The id of an active ESCO occupation (not an ISCO group)."""
        return self._occupations.resolve([uri], field)[0]

    def skill_uri(self, skill_id: int) -> str:
        return self._skills.uri[skill_id]

    def has_skill(self, skill_id: object) -> bool:
        """Whether `skill_id` is a loaded skill (a stored array may hold anything)."""
        return isinstance(skill_id, int) and skill_id in self._skills.uri

    def skill_label(self, skill_id: int, lang: str = BASE_LANG) -> str:
        """The one place a skill gets its display label: in `lang` where there is
        one (Danish: our easy-Danish label first), else the English ESCO label."""
        if lang != BASE_LANG:
            label = self._skill_labels.get(lang, {}).get(skill_id)
            if label is not None:
                return label
        return self._skills.label[skill_id]

    def occupation_uri(self, occupation_id: int) -> str:
        return self._occupations.uri[occupation_id]

    def occupation_label(self, occupation_id: int, lang: str = BASE_LANG) -> str:
        if lang != BASE_LANG:
            label = self._occupation_labels.get(lang, {}).get(occupation_id)
            if label is not None:
                return label
        return self._occupations.label[occupation_id]

    def occupation_isco(self, occupation_id: int) -> str:
        """The occupation's ISCO-08 code ("" if unknown)."""
        return self._isco.get(occupation_id, "")

    def resolve_occupations(self, uris: Sequence[str], field: str | None = None) -> list[int]:
        """Ids of active ESCO occupations, one per URI; 422 errors as resolve_skills."""
        return self._occupations.resolve(uris, field)

    def occupation_id(self, uri: str) -> int | None:
        """The id of an active occupation URI, else None (a stored wish whose
        occupation ESCO retired is passed over, not an error)."""
        i = self._occupations.active_id.get(uri)
        return i if i is not None and uri not in self._occupations.other_kind else None

    def occupation_skills(self, occupation_id: int) -> tuple[list[int], list[int]]:
        """(essential, optional) skill ids of an occupation's ESCO profile, by id."""
        essential, optional = self._profile[occupation_id]
        return list(essential), list(optional)

    # --- credit ----------------------------------------------------------------

    def credit_vector(self, skill_ids: Iterable[int]) -> np.ndarray:
        """float32[n_slots]: credit toward each skill for a seeker holding `skill_ids`.

        Ids outside [0, n_slots) (a skill imported after this taxonomy was loaded)
        are ignored; the scorer treats ids beyond the vector as uncovered.
        """
        held = np.asarray(
            skill_ids if isinstance(skill_ids, np.ndarray) else list(skill_ids), dtype=np.int64
        )
        held = held[(held >= 0) & (held < self._n)]
        out = np.zeros(self._n, dtype=np.float32)
        if held.size == 0:
            return out
        starts = self._indptr[held]
        counts = self._indptr[held + 1] - starts
        # Positions of all held rows' entries, concatenated, without a Python loop.
        pos = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
        np.maximum.at(out, self._cols[pos], self._credit[pos])
        out[held] = 1.0
        return out


def _csr(n: int, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols[order]


def _neighbours(
    indptr: np.ndarray, indices: np.ndarray, nodes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each node, its CSR neighbours: (position of the node in `nodes`, neighbour)."""
    starts = indptr[nodes]
    counts = indptr[nodes + 1] - starts
    pos = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
    return np.repeat(np.arange(nodes.size), counts), indices[pos]


def _essential(types: Iterable[str]) -> np.ndarray:
    return np.asarray([t == "essential" for t in types], dtype=bool)


def _credit_matrix(
    n: int,
    broader: tuple[np.ndarray, np.ndarray],
    related: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR (indptr, cols, credit): row = held skill, entries = credit it earns elsewhere."""
    child, parent = broader
    ok = (child >= 0) & (child < n) & (parent >= 0) & (parent < n)
    child, parent = child[ok], parent[ok]
    parts: list[tuple[np.ndarray, np.ndarray, float | np.ndarray]] = []

    # Broader: walk up level by level; dedupe each level so ESCO's polyhierarchy
    # (a skill under several groups) does not multiply paths.
    up_ptr, up_idx = _csr(n, child, parent)
    src = cur = np.unique(child)
    for level_credit in BROADER_CREDIT:
        at, cur = _neighbours(up_ptr, up_idx, cur)
        key = np.unique(src[at] * n + cur)
        src, cur = key // n, key % n
        parts.append((src, cur, level_credit))
    parts.append((parent, child, NARROWER_CREDIT))

    a, b, essential = related
    ok = (a >= 0) & (a < n) & (b >= 0) & (b < n)
    a, b, essential = a[ok], b[ok], essential[ok]
    fwd, rev = RELATED_CREDIT, RELATED_REVERSE_CREDIT
    parts.append((a, b, np.where(essential, fwd["essential"], fwd["optional"])))
    parts.append((b, a, np.where(essential, rev["essential"], rev["optional"])))

    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    weights = [np.broadcast_to(np.asarray(p[2], dtype=np.float32), p[0].shape) for p in parts]
    credit = np.concatenate(weights)
    # Keep the best credit per (row, col): sort by key, best first, take the first.
    key = rows * n + cols
    order = np.lexsort((-credit, key))
    key, credit = key[order], credit[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, credit = key[first], credit[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(key // n, minlength=n), out=indptr[1:])
    return indptr, (key % n).astype(np.int32), credit
