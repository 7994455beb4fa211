"""match events (feedback), course catalogue

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 10:00:00

- `match_events`: append-only log of what happened to a match (pushed, opened,
  dismissed, saved, applied, hired, consultant verdicts), each with the score and
  feature vector as scored at that moment (matcher/analytics/feedback.py). A trigger refuses
  UPDATE, so history cannot be rewritten; DELETE stays possible because erasing a
  person (or a vacancy) cascades to their events.
- `courses`, `course_skills`: a course catalogue linked to ESCO skills, for
  competence guidance (matcher/competence/courses.py, matcher/competence/guidance.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'pushed', 'opened', 'dismissed', 'saved', 'applied', 'hired', 'verdict_good', 'verdict_bad'"
ACTORS = "'seeker', 'employer', 'consultant', 'system'"
AGE_BANDS = "'<18', '18-24', '25-29', '30+'"


def upgrade() -> None:
    op.create_table('match_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('jobseeker_id', sa.UUID(), nullable=False),
    sa.Column('vacancy_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.Column('score', sa.REAL(), nullable=False),
    sa.Column('features', postgresql.ARRAY(sa.REAL()), nullable=False),
    sa.Column('scorer', sa.Text(), nullable=False),
    sa.Column('age_band', sa.Text(), nullable=False),
    sa.Column('area', sa.Text(), nullable=True),
    sa.CheckConstraint(f'kind IN ({KINDS})', name=op.f('ck_match_events_kind')),
    sa.CheckConstraint(f'actor IN ({ACTORS})', name=op.f('ck_match_events_actor')),
    sa.CheckConstraint(f'age_band IN ({AGE_BANDS})', name=op.f('ck_match_events_age_band')),
    sa.ForeignKeyConstraint(['jobseeker_id'], ['jobseekers.id'], name=op.f('fk_match_events_jobseeker_id_jobseekers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vacancy_id'], ['vacancies.id'], name=op.f('fk_match_events_vacancy_id_vacancies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_events'))
    )
    op.create_index('ix_match_events_jobseeker_occurred', 'match_events', ['jobseeker_id', 'occurred_at'], unique=False)
    # Cascading deletes from vacancies look rows up by vacancy.
    op.create_index(op.f('ix_match_events_vacancy_id'), 'match_events', ['vacancy_id'], unique=False)
    op.execute(
        """
        CREATE FUNCTION match_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'match_events is append-only';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER match_events_no_update BEFORE UPDATE ON match_events"
        " FOR EACH ROW EXECUTE FUNCTION match_events_append_only()"
    )

    op.create_table('courses',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source_ref', sa.String(length=200), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('provider', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('duration_hours', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses')),
    sa.UniqueConstraint('source_ref', name=op.f('uq_courses_source_ref'))
    )
    op.create_table('course_skills',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('skill_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_skills_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f('fk_course_skills_skill_id_skills')),
    sa.PrimaryKeyConstraint('course_id', 'skill_id', name=op.f('pk_course_skills'))
    )
    op.create_index(op.f('ix_course_skills_skill_id'), 'course_skills', ['skill_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_course_skills_skill_id'), table_name='course_skills')
    op.drop_table('course_skills')
    op.drop_table('courses')
    op.execute("DROP TRIGGER match_events_no_update ON match_events")
    op.execute("DROP FUNCTION match_events_append_only()")
    op.drop_index(op.f('ix_match_events_vacancy_id'), table_name='match_events')
    op.drop_index('ix_match_events_jobseeker_occurred', table_name='match_events')
    op.drop_table('match_events')
