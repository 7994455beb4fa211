"""ORM models: the shape of the system of record.

The schema itself comes only from Alembic migrations (alembic/versions); a test
(tests/test_migrations.py) proves that these models and the migrations agree.

Skills on vacancies and seekers are stored as integer arrays of `skills.id`
rather than in join tables: the nearby-match query must hand thousands of
candidates to the vectorised scorer in one round trip, and arrays decode in C.
Integrity is enforced where skills enter (the API and the importer resolve URIs
through `matcher.esco.taxonomy` and reject unknown ones with a 422); ESCO re-imports
update skills in place, so ids stay stable.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import (
    REAL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    FetchedValue,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from matcher.offers import OFFER_KINDS, ORG_KINDS
from matcher.sane_dates import SaneDate, SaneTimestamp
from matcher.youth_rules import WORKPLACE_KINDS

# Alembic names constraints the same way every time (polar's habit).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _now() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class JobType(enum.StrEnum):
    ORDINARY = "ordinary"
    FRITIDSJOB = "fritidsjob"
    SMAAJOB = "smaajob"
    VIRKSOMHEDSPRAKTIK = "virksomhedspraktik"
    LOENTILSKUD = "loentilskud"
    ELEV_LAERLING = "elev_laerling"
    IGU = "igu"
    FLEKSJOB = "fleksjob"


class VacancyStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    EXPIRED = "expired"


class VacancySource(enum.StrEnum):
    API = "api"
    IMPORT = "import"


class Verdict(enum.StrEnum):
    GOOD = "good"
    BAD = "bad"


def _pg_enum(cls: type[enum.StrEnum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


# --- ESCO taxonomy -----------------------------------------------------------


class Skill(Base):
    """An ESCO skill/competence, knowledge item or skill group."""

    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uri: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    # "skill/competence", "knowledge", "group" (a SkillGroup), or "" if unknown.
    skill_type: Mapped[str] = mapped_column(String(32), nullable=False, server_default="")
    reuse_level: Mapped[str] = mapped_column(String(32), nullable=False, server_default="")
    preferred_label: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    # False once a newer ESCO import no longer contains the URI; kept so that
    # profiles referring to it do not break (the import reports it).
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))


class SkillBroader(Base):
    """skill -> broader skill or skill group (ESCO skills pillar hierarchy)."""

    __tablename__ = "skill_broader"

    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True
    )
    broader_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SkillRelation(Base):
    """ESCO skill <-> related skill (relationType essential|optional)."""

    __tablename__ = "skill_relations"

    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True
    )
    related_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relation_type: Mapped[str] = mapped_column(String(16), nullable=False)


class Occupation(Base):
    """An ESCO occupation or ISCO group."""

    __tablename__ = "occupations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uri: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    concept_type: Mapped[str] = mapped_column(String(32), nullable=False)  # Occupation|ISCOGroup
    isco_code: Mapped[str] = mapped_column(String(16), nullable=False, server_default="")
    preferred_label: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))


class OccupationSkill(Base):
    __tablename__ = "occupation_skills"

    occupation_id: Mapped[int] = mapped_column(
        ForeignKey("occupations.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relation_type: Mapped[str] = mapped_column(String(16), nullable=False)  # essential|optional


class ConceptLabel(Base):
    """Labels of any ESCO concept in any language (preferred, alt, hidden)."""

    __tablename__ = "concept_labels"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    concept_uri: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    concept_type: Mapped[str] = mapped_column(String(32), nullable=False)
    lang: Mapped[str] = mapped_column(String(8), nullable=False)
    label_type: Mapped[str] = mapped_column(String(16), nullable=False)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    # "esco" (from ESCO files) or "youth_da" (our easy-Danish vocabulary,
    # matcher/esco/youth_vocab.py): our labels are never passed off as ESCO's.
    source: Mapped[str] = mapped_column(String(16), nullable=False, server_default="esco")

    __table_args__ = (
        UniqueConstraint(
            "concept_uri", "lang", "label_type", "label", "source", name="uq_concept_labels"
        ),
    )


# --- People and places -------------------------------------------------------


class Employer(Base):
    __tablename__ = "employers"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    cvr: Mapped[str | None] = mapped_column(String(8))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # SHA-256 of the API key; the key itself is shown once and never stored.
    api_key_hash: Mapped[bytes] = mapped_column(nullable=False, unique=True)
    # Set only for employers that an importer created for an external ad's
    # hiring organisation ("jobnet:<cvr>:<folded name>"); they have no usable key.
    import_key: Mapped[str | None] = mapped_column(String(240), unique=True)
    # What kind of organisation posts (migration 0013): the pages' words for it.
    org_kind: Mapped[str] = mapped_column(String(20), nullable=False, server_default="business")
    created_at: Mapped[dt.datetime] = _now()
    # Employer trust (matcher/posting/employer_trust.py, migration 0012): who verified
    # the employer ('consultant', 'operator', 'cvr_register', 'jobnet') and when.
    verification_status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="unverified"
    )
    verified_by_type: Mapped[str | None] = mapped_column(String(16))
    verified_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "verification_status IN ('unverified', 'verified', 'rejected')",
            name="verification_status",
        ),
    )

    __table_args__ = (
        CheckConstraint(f"org_kind IN ({', '.join(repr(k) for k in ORG_KINDS)})", name="org_kind"),
    )


# A new kind needs a migration that widens the check constraint.
_WORKPLACE_KINDS_SQL = ", ".join(f"'{k}'" for k in WORKPLACE_KINDS)


class Vacancy(Base):
    __tablename__ = "vacancies"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    employer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("employers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    source: Mapped[VacancySource] = mapped_column(
        _pg_enum(VacancySource, "vacancy_source"), nullable=False, server_default="api"
    )
    # The source's own id for imported ads (upsert key together with source).
    source_ref: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    occupation_id: Mapped[int | None] = mapped_column(ForeignKey("occupations.id"))
    location: Mapped[object] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False), nullable=False
    )
    address: Mapped[str | None] = mapped_column(String(300))
    # How exact `location` is: 'given' (coordinates sent by the poster or feed),
    # 'address' / 'street' (geocoded), 'postcode' (a postcode centroid;
    # matcher/location/geocode.py).
    location_precision: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="given"
    )
    required_skill_ids: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), nullable=False, server_default="{}"
    )
    required_skill_weights: Mapped[list[float]] = mapped_column(
        ARRAY(REAL), nullable=False, server_default="{}"
    )
    optional_skill_ids: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), nullable=False, server_default="{}"
    )
    required_certificates: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), nullable=False, server_default="{}"
    )
    # Desired work profile, same layout as Jobseeker.work_profile (matcher/profile.py).
    work_profile: Mapped[list[float] | None] = mapped_column(ARRAY(REAL))
    # Offer kinds (matcher/offers.py, migration 0013): a job has a job type and hours;
    # leisure and volunteering offers have neither (CHECK job_fields).
    kind: Mapped[str] = mapped_column(String(16), nullable=False, server_default="job")
    job_type: Mapped[JobType | None] = mapped_column(_pg_enum(JobType, "job_type"))
    hours_per_week: Mapped[float | None] = mapped_column(Float)
    max_age: Mapped[int | None] = mapped_column(SmallInteger)
    cost_dkk: Mapped[int | None] = mapped_column(Integer)
    cost_note: Mapped[str | None] = mapped_column(String(100))
    # Volunteering that is work for an employer: the youth work rules apply to it.
    volunteering_is_work: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    # Working hours of the day, if fixed; used by the youth rules (no night work).
    shift_start: Mapped[dt.time | None] = mapped_column(Time)
    shift_end: Mapped[dt.time | None] = mapped_column(Time)
    hazardous: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    light_work: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    min_age: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="15")
    walk_in: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    # {"mon": [["09:00","17:30"]], ...}; local time Europe/Copenhagen.
    opening_hours: Mapped[dict[str, list[list[str]]] | None] = mapped_column(JSONB)
    # What the youth rules need (matcher/youth_rules.py, migration 0010). `schedule`
    # is [{"days": ["mon", ...], "start": "HH:MM", "end": "HH:MM"}], a day at most
    # once; `hazardous` stays and always equals "hazards is not empty".
    workplace_kind: Mapped[str] = mapped_column(String(32), nullable=False, server_default="other")
    schedule: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    alcohol_served: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    may_work_alone: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    hazards: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), nullable=False, server_default="{}"
    )
    # Read through the sane window: an absurd stored date reads as NULL.
    start_date: Mapped[dt.date | None] = mapped_column(SaneDate)
    expires_at: Mapped[dt.datetime | None] = mapped_column(SaneTimestamp)
    openings: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="1")
    # How to apply: {"url"?, "email"?, "phone"?, "how"?, "walk_in"?, "contacts"?}, checked by
    # matcher/posting/apply_info.py wherever it enters (the API, the Jobnet import).
    apply: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Pay: {"kind": "hourly", "dkk"} | {"kind": "range", "min_dkk", "max_dkk"} |
    # {"kind": "agreement"} ("efter overenskomst"); matcher/posting/pay.py, migration 0015.
    pay: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[VacancyStatus] = mapped_column(
        _pg_enum(VacancyStatus, "vacancy_status"), nullable=False, server_default="open"
    )
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = _now()
    # Bumped from `vacancy_change_no_seq` by a trigger on every insert and
    # update (migration 0006), so push workers can catch up on what they missed
    # with `change_no > last_seen` (push/catchup.py).
    change_no: Mapped[int] = mapped_column(
        BigInteger,
        server_default=FetchedValue(),
        server_onupdate=FetchedValue(),
        nullable=False,
    )
    # A copy of "its employer is verified", written only by triggers (migration
    # 0012) on every write of the vacancy and every change of the employer's
    # status: the candidate query reads it without a join (matcher/matching/geo.py).
    # (No server_onupdate: the ORM never writes the columns that fire it, and
    # expiring it on every flush would make async code reload it lazily.)
    employer_verified: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    # Set when reports from enough different people hide it until a consultant
    # reviews it (matcher/posting/reports.py).
    hidden_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_vacancies_change_no", "change_no", unique=True),
        # Only open vacancies are ever searched by place: a partial index keeps
        # the geo index small and the planner on it.
        Index(
            "ix_vacancies_open_location",
            "location",
            postgresql_using="gist",
            postgresql_where=text("status = 'open'"),
        ),
        UniqueConstraint("source", "source_ref", name="uq_vacancies_source_ref"),
        # The few hidden pending review (matcher/posting/reports.py, the moderation list).
        Index("ix_vacancies_hidden", "hidden_at", postgresql_where=text("hidden_at IS NOT NULL")),
        CheckConstraint("hours_per_week > 0 AND hours_per_week <= 80", name="hours"),
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in OFFER_KINDS)})", name="kind"),
        CheckConstraint(
            "(kind = 'job') = (job_type IS NOT NULL) "
            "AND (kind <> 'job' OR hours_per_week IS NOT NULL)",
            name="job_fields",
        ),
        CheckConstraint(
            "max_age IS NULL OR (max_age BETWEEN 13 AND 99 AND max_age >= min_age)",
            name="max_age",
        ),
        CheckConstraint("cost_dkk IS NULL OR cost_dkk BETWEEN 0 AND 100000", name="cost"),
        CheckConstraint(
            "NOT volunteering_is_work OR kind = 'volunteering'", name="volunteering_is_work"
        ),
        CheckConstraint("min_age BETWEEN 13 AND 99", name="min_age"),
        CheckConstraint("openings >= 1", name="openings"),
        CheckConstraint(f"workplace_kind IN ({_WORKPLACE_KINDS_SQL})", name="workplace_kind"),
        CheckConstraint("hazardous = (cardinality(hazards) > 0)", name="hazards_flag"),
        CheckConstraint(
            "location_precision IN ('given', 'address', 'street', 'postcode')",
            name="location_precision",
        ),
        CheckConstraint(
            "cardinality(required_skill_ids) = cardinality(required_skill_weights)",
            name="required_weights",
        ),
    )


class VacancyDeletion(Base):
    """A hard-deleted vacancy, numbered from the vacancies' change sequence by a
    trigger (migration 0019), so the replicas (matcher/matching/replica.py) see a delete
    as one more change past their floor. Written only by the trigger."""

    __tablename__ = "vacancy_deletions"

    change_no: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    vacancy_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    deleted_at: Mapped[dt.datetime] = _now()


class VacancyReport(Base):
    """A seeker's report of a vacancy (matcher/posting/reports.py); personal data of the
    reporter: shown to consultants without who, never to the employer."""

    __tablename__ = "vacancy_reports"

    vacancy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vacancies.id", ondelete="CASCADE"), primary_key=True
    )
    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reason: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str] = mapped_column(String(500), nullable=False, server_default="")
    created_at: Mapped[dt.datetime] = _now()

    __table_args__ = (
        CheckConstraint(
            "reason IN ('unsafe', 'fake', 'offensive', 'wrong_info', 'other')", name="reason"
        ),
    )


class Jobseeker(Base):
    __tablename__ = "jobseekers"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # No token here: each signed-in device has its own (`SeekerDevice`, migration 0021).
    display_name: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    language: Mapped[str] = mapped_column(String(2), nullable=False, server_default="da")
    skill_ids: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), nullable=False, server_default="{}"
    )
    certificates: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), nullable=False, server_default="{}"
    )
    # ESCO occupation URIs the person wishes for (migration 0017; the score's
    # occupation part, matcher/matching/scoring.py).
    interests: Mapped[list[str]] = mapped_column(
        ARRAY(String(255)), nullable=False, server_default="{}"
    )
    work_profile: Mapped[list[float] | None] = mapped_column(ARRAY(REAL))
    radius_m: Mapped[float] = mapped_column(Float, nullable=False, server_default="5000")
    job_types: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), nullable=False, server_default="{}"
    )
    hours_min: Mapped[float | None] = mapped_column(Float)
    hours_max: Mapped[float | None] = mapped_column(Float)
    walk_in_interest: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("true")
    )
    # The latest position lives apart from the profile row, in `push_streams`
    # (read with `consent.last_point`).
    # Push settings (docs/push-protocol.md). Their delivery sequence lives apart,
    # in `push_streams`, so pushing never locks or rewrites the profile row.
    push_paused: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    push_min_score: Mapped[float] = mapped_column(Float, nullable=False, server_default="0.5")
    quiet_from: Mapped[dt.time | None] = mapped_column(Time)
    quiet_until: Mapped[dt.time | None] = mapped_column(Time)
    # Has the person finished 9th grade (the youth rules); NULL for adults and
    # rows from before migration 0010, which are judged as still in school.
    finished_compulsory_school: Mapped[bool | None] = mapped_column(Boolean)
    # Subsidised job types a consultant has marked this person eligible for.
    subsidy_eligibility: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), nullable=False, server_default="{}"
    )
    # The kinds of offer the person wants (matcher/offers.py); jobs unless they opt in.
    offer_kinds: Mapped[list[str]] = mapped_column(
        ARRAY(String(16)), nullable=False, server_default="{job}"
    )
    # The person's own yes to events about them reaching their consultant's
    # municipality (matcher/integrations/integration_events.py); given in the app, withdrawable.
    share_with_municipality: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    share_given_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    share_withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # A parent's {"name", "phone"?, "email"?}, optional (docs/privacy.md, "Parents").
    parent_contact: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    # Last use of the service, touched at most once a day (matcher/people/rights.py);
    # the inactive sweeper deletes accounts unused for JOTR_INACTIVE_DELETE_AFTER_DAYS.
    last_active_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True
    )
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = _now()

    __table_args__ = (
        CheckConstraint(
            "cardinality(offer_kinds) > 0 AND "
            "offer_kinds <@ ARRAY['job', 'leisure', 'volunteering']::varchar[]",
            name="offer_kinds",
        ),
    )


CONSENT_KINDS: tuple[str, ...] = ("service", "location")


class Consent(Base):
    """A consent a person gave (`service`: the privacy notice at sign-up; `location`:
    positions for push), with the notice version they saw. Withdrawal sets
    `withdrawn_at`; giving it again is a new row, so the history stays."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    notice_version: Mapped[str] = mapped_column(String(32), nullable=False)
    granted_at: Mapped[dt.datetime] = _now()
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_consents_live",
            "jobseeker_id",
            "kind",
            unique=True,
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
        CheckConstraint("kind IN ('service', 'location')", name="kind"),
    )


class Consultant(Base):
    __tablename__ = "consultants"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(32), nullable=False, server_default="jobkonsulent")
    token_hash: Mapped[bytes] = mapped_column(nullable=False, unique=True)
    # The municipality (kommunekode) whose jobcenter this consultant works for;
    # person events go only to that municipality's integrations (migration 0014).
    municipality: Mapped[str] = mapped_column(String(4), nullable=False, server_default="0751")
    created_at: Mapped[dt.datetime] = _now()


class CaseloadEntry(Base):
    __tablename__ = "caseload"

    consultant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultants.id", ondelete="CASCADE"), primary_key=True
    )
    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = _now()


class MatchReview(Base):
    __tablename__ = "match_reviews"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    consultant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    vacancy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vacancies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    verdict: Mapped[Verdict] = mapped_column(_pg_enum(Verdict, "verdict"), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    # The match as the consultant saw it (score + explanation), for learning later.
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = _now()


class PushDelivery(Base):
    """Every push, recorded before it is sent: the history that resume replays.

    At most one `match` and one `withdrawn` per seeker and vacancy, which is
    what "pushed once" means.
    """

    __tablename__ = "push_deliveries"

    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # match | withdrawn | interest_reply (an employer's answer, push/messages.py)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    vacancy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vacancies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # The message body as sent (without seq), so a replay is byte-for-byte the same.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = _now()

    __table_args__ = (
        UniqueConstraint("jobseeker_id", "vacancy_id", "kind", name="uq_push_deliveries_once"),
        CheckConstraint("kind IN ('match', 'withdrawn', 'interest_reply')", name="kind"),
    )


class Application(Base):
    """Interest ("Jeg er interesseret"): what a young person chose to share with the employer
    of one vacancy, and the employer's one answer (matcher/people/applications.py).
    Personal data: gone with the person (cascade), read by consultants audited."""

    __tablename__ = "applications"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    vacancy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vacancies.id", ondelete="CASCADE"), nullable=False
    )
    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # {"first_name"?, "age"?, "phone"?, "email"?, "skills"?: [{"uri", "label"}]}
    shared: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    reply: Mapped[str | None] = mapped_column(String(16))
    reply_message: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _now()

    __table_args__ = (
        UniqueConstraint("vacancy_id", "jobseeker_id", name="uq_applications_once"),
        CheckConstraint("reply IN ('come_by', 'call_me', 'no_thanks')", name="reply"),
    )


class PushStream(Base):
    """A person's push stream and presence, apart from the profile row: the hot
    writes of push (every delivery, every stored position) neither lock nor
    rewrite the wide `jobseekers` row. Created with the person's first delivery
    or position (no row: sequence 0, no position).

    `push_seq` is the last sequence number handed out to their deliveries; the
    row lock on it orders concurrent writers (push/delivery.py).
    `last_position` is the latest position only, set by the push layer while
    connected and erased a short time after disconnect (docs/privacy.md).
    Never a history."""

    __tablename__ = "push_streams"

    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), primary_key=True
    )
    push_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    last_position: Mapped[object | None] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False)
    )
    last_position_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_push_streams_last_position",
            "last_position",
            postgresql_using="gist",
            postgresql_where=text("last_position IS NOT NULL"),
        ),
    )


class PushDeviceAck(Base):
    """How far each device of a person has acknowledged their deliveries.

    Acks are per device, not per person: a phone's ack must not swallow what the
    tablet missed. Devices unseen for `JOTR_PUSH_DEVICE_DAYS` are forgotten.
    """

    __tablename__ = "push_device_acks"

    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    acked_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    seen_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True
    )


class PushPresence(Base):
    """One live websocket, on any worker of any node: refreshed every
    `JOTR_PUSH_PRESENCE_REFRESH_S` while open and deleted on close; a row not
    refreshed for three periods belongs to a dead worker. Caps connections per
    person and tells when their last one anywhere is gone (docs/privacy.md)."""

    __tablename__ = "push_presence"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    device_id: Mapped[str] = mapped_column(String(64), nullable=False)
    node: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    opened_at: Mapped[dt.datetime] = _now()
    refreshed_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True
    )


class HomeArea(Base):
    """A coarse home area the person set by consent, for alerts while the app is
    closed (push/offline.py): a postcode's centroid or a point snapped to a 500 m
    grid (matcher/people/home_area.py). Only the snapped point is stored."""

    __tablename__ = "jobseeker_home_areas"

    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), primary_key=True
    )
    point: Mapped[object] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False), nullable=False
    )
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # postcode | position
    postcode: Mapped[str | None] = mapped_column(String(4))
    # Who gave consent (today always the person, `jobseeker`) and when.
    consent_by: Mapped[str] = mapped_column(String(16), nullable=False)
    consented_at: Mapped[dt.datetime] = _now()

    __table_args__ = (
        Index("ix_jobseeker_home_areas_point", "point", postgresql_using="gist"),
        CheckConstraint("source IN ('postcode', 'position')", name="source"),
    )


class WebPushSubscription(Base):
    """One browser install's Web Push subscription (RFC 8030 endpoint, RFC 8291
    keys). The endpoint is a capability URL: never logged (api/redaction.py)."""

    __tablename__ = "webpush_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    endpoint: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    p256dh: Mapped[str] = mapped_column(String(100), nullable=False)
    auth: Mapped[str] = mapped_column(String(40), nullable=False)
    created_at: Mapped[dt.datetime] = _now()


class AuditEntry(Base):
    """Who read or changed whose personal data. Never holds the data itself."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = _now()
    actor_type: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(16), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    detail: Mapped[dict[str, object]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )


class Passkey(Base):
    """A person's WebAuthn credential: signing in with it on a new phone issues
    a new token (docs/security.md). Only the public key is kept."""

    __tablename__ = "passkeys"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sign_count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    transports: Mapped[list[str]] = mapped_column(
        ARRAY(String(16)), nullable=False, server_default="{}"
    )
    name: Mapped[str] = mapped_column(String(60), nullable=False, server_default="")
    created_at: Mapped[dt.datetime] = _now()
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SeekerDevice(Base):
    """One signed-in device of a jobseeker: its own bearer token (only the
    SHA-256 kept), so signing in on a new phone leaves the others working and a
    lost one can be signed out alone (matcher/people/devices.py). A signed-out device's
    row is deleted, not marked. About the device only a coarse label ("Chrome ·
    Android", never the full User-Agent) and days, not times, of use."""

    __tablename__ = "seeker_devices"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Unique: authenticating is one index lookup by hash.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    label: Mapped[str] = mapped_column(String(40), nullable=False, server_default="")
    created_at: Mapped[dt.datetime] = _now()
    last_used_on: Mapped[dt.date] = mapped_column(
        Date, nullable=False, server_default=text("CURRENT_DATE")
    )


class WebauthnChallenge(Base):
    """A challenge handed out for a passkey ceremony: single use, short-lived."""

    __tablename__ = "webauthn_challenges"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    challenge: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    jobseeker_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE")
    )
    expires_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, index=True
    )

    __table_args__ = (CheckConstraint("purpose IN ('register', 'sign_in')", name="purpose"),)


class SeekerVacancyMark(Base):
    """A vacancy a person dismissed or saved, on any device. A dismissed one is
    never listed nor pushed to them again (matcher/people/marks.py)."""

    __tablename__ = "seeker_vacancy_marks"

    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), primary_key=True
    )
    vacancy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vacancies.id", ondelete="CASCADE"), primary_key=True
    )
    mark: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[dt.datetime] = _now()

    __table_args__ = (CheckConstraint("mark IN ('dismissed', 'saved')", name="mark"),)


class IdempotencyKey(Base):
    """Replay store for retried POSTs (header `Idempotency-Key`)."""

    __tablename__ = "idempotency_keys"

    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(nullable=False)
    status_code: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    response: Mapped[dict[str, object]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[dt.datetime] = _now()


# --- Ingest and geocoding (matcher/ingest, matcher/location/geocode.py) ------------------


class ImportState(Base):
    """Where an importer is in its source's change feed.

    Written in the same transaction as the page of ads it follows, so after a
    crash the import resumes exactly after the last committed page.
    """

    __tablename__ = "import_state"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = _now()


class ImportedAd(Base):
    """What an importer last saw of one ad in a listing (matcher/ingest/search_source.py).

    `content_hash` is the hash of the ad's search row, so an unchanged ad costs no
    detail request; NULL means "fetch it again" (it could not be placed last time).
    `last_seen` is when a listing pass last saw the ad: a full sweep closes the
    vacancies of ads not seen since the sweep began.
    """

    __tablename__ = "import_ads"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    last_seen: Mapped[dt.datetime] = _now()


class EscoCrosswalk(Base):
    """STAR occupation URI -> ESCO occupation URI, as an operator loaded it
    (`jotr esco crosswalk load`). STAR's `conceptUriDa` UUIDs are not ESCO's."""

    __tablename__ = "esco_crosswalk"

    star_uri: Mapped[str] = mapped_column(String(200), primary_key=True)
    esco_uri: Mapped[str] = mapped_column(String(200), nullable=False)
    loaded_at: Mapped[dt.datetime] = _now()


class GeocodeCacheEntry(Base):
    """Geocoder answers by normalised address (matcher/location/geocode.py), kept across
    restarts."""

    __tablename__ = "geocode_cache"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    precision: Mapped[str] = mapped_column(String(16), nullable=False)
    label: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    created_at: Mapped[dt.datetime] = _now()


# --- Feedback and courses (matcher/analytics/feedback.py, matcher/competence/courses.py) ---

# What can happen to a match, and who did it. Kept as CHECKs on text (not PG enums)
# so adding a kind later is one migration line, not an ALTER TYPE.
EVENT_KINDS: tuple[str, ...] = (
    "pushed",
    "opened",
    "dismissed",
    "saved",
    "applied",
    "hired",
    "verdict_good",
    "verdict_bad",
)
EVENT_ACTORS: tuple[str, ...] = ("seeker", "employer", "consultant", "system")
AGE_BANDS: tuple[str, ...] = ("<18", "18-24", "25-29", "30+")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class MatchEvent(Base):
    """One thing that happened to a match, append-only: the ranker's training data
    and the consultants' outcome figures.

    `score` and `features` are the match as scored at that moment (the order of
    `matcher.analytics.feedback.FEATURE_NAMES`). Nothing here locates the seeker: `age_band`
    and the vacancy's coarse `area` are all that fairness statistics get.
    """

    __tablename__ = "match_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[dt.datetime] = _now()
    jobseeker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), nullable=False
    )
    vacancy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vacancies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    score: Mapped[float] = mapped_column(REAL, nullable=False)
    features: Mapped[list[float]] = mapped_column(ARRAY(REAL), nullable=False)
    scorer: Mapped[str] = mapped_column(Text, nullable=False)
    age_band: Mapped[str] = mapped_column(Text, nullable=False)
    area: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_match_events_jobseeker_occurred", "jobseeker_id", "occurred_at"),
        CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),
        CheckConstraint(_in("actor", EVENT_ACTORS), name="actor"),
        CheckConstraint(_in("age_band", AGE_BANDS), name="age_band"),
    )


class Course(Base):
    """A course that teaches ESCO skills (loaded from a catalogue CSV)."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The catalogue's own id for the course: the upsert key of a re-load.
    source_ref: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    provider: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    duration_hours: Mapped[float | None] = mapped_column(Float)


class CourseSkill(Base):
    __tablename__ = "course_skills"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True, index=True)


# --- Integrations: case systems, webhooks, the event outbox (migration 0014) ---------


class Integration(Base):
    """A municipality's case system: reads the event feed, subscribes webhooks."""

    __tablename__ = "integrations"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    municipality: Mapped[str] = mapped_column(String(4), nullable=False)
    token_hash: Mapped[bytes] = mapped_column(nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = _now()


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    url: Mapped[str] = mapped_column(Text, nullable=False)
    # `whsec_<base64>`; kept because every signature needs it (docs/integrations.md).
    secret: Mapped[str] = mapped_column(Text, nullable=False)
    types: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False, server_default="{}")
    created_at: Mapped[dt.datetime] = _now()


class IntegrationEvent(Base):
    """One event, written in the transaction of what it tells about.

    `txid` is that transaction's id; the feed shows an event only once every
    transaction with a smaller id has ended, in (txid, id) order, so a reader's
    cursor never passes an event that commits later. `municipalities` NULL: for
    every integration (vacancies); else only those municipalities'.
    """

    __tablename__ = "integration_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    txid: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("(pg_current_xact_id()::text)::bigint")
    )
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    subject: Mapped[str] = mapped_column(String(80), nullable=False)
    jobseeker_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("jobseekers.id", ondelete="CASCADE"), index=True
    )
    municipalities: Mapped[list[str] | None] = mapped_column(ARRAY(String(4)))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    occurred_at: Mapped[dt.datetime] = _now()

    __table_args__ = (Index("ix_integration_events_txid_id", "txid", "id"),)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("integration_events.id", ondelete="CASCADE"), nullable=False
    )
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    attempts: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    next_attempt_at: Mapped[dt.datetime] = _now()
    last_status: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    dead_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id", name="uq_webhook_deliveries_event_id"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("delivered_at IS NULL AND dead_at IS NULL"),
        ),
    )


class ConsultantInvite(Base):
    """A short code a consultant hands a young person; only its hash is kept."""

    __tablename__ = "consultant_invites"

    code_hash: Mapped[bytes] = mapped_column(primary_key=True)
    consultant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[dt.datetime] = _now()
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
