"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 12:19:07.872595
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.UUID(), nullable=False),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_actor_id'), 'audit_log', ['actor_id'], unique=False)
    op.create_index(op.f('ix_audit_log_subject_id'), 'audit_log', ['subject_id'], unique=False)
    op.create_table('concept_labels',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('concept_uri', sa.String(length=255), nullable=False),
    sa.Column('concept_type', sa.String(length=32), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('label_type', sa.String(length=16), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concept_labels')),
    sa.UniqueConstraint('concept_uri', 'lang', 'label_type', 'label', name='uq_concept_labels')
    )
    op.create_index(op.f('ix_concept_labels_concept_uri'), 'concept_labels', ['concept_uri'], unique=False)
    op.create_table('consultants',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('role', sa.String(length=32), server_default='jobkonsulent', nullable=False),
    sa.Column('token_hash', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultants')),
    sa.UniqueConstraint('email', name=op.f('uq_consultants_email')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_consultants_token_hash'))
    )
    op.create_table('employers',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('cvr', sa.String(length=8), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('api_key_hash', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employers')),
    sa.UniqueConstraint('api_key_hash', name=op.f('uq_employers_api_key_hash'))
    )
    op.create_table('idempotency_keys',
    sa.Column('owner_id', sa.UUID(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.LargeBinary(), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=False),
    sa.Column('response', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('owner_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_geospatial_table('jobseekers',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('token_hash', sa.LargeBinary(), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('language', sa.String(length=2), server_default='da', nullable=False),
    sa.Column('skill_ids', postgresql.ARRAY(sa.Integer()), server_default='{}', nullable=False),
    sa.Column('certificates', postgresql.ARRAY(sa.String(length=40)), server_default='{}', nullable=False),
    sa.Column('work_profile', postgresql.ARRAY(sa.REAL()), nullable=True),
    sa.Column('radius_m', sa.Float(), server_default='5000', nullable=False),
    sa.Column('job_types', postgresql.ARRAY(sa.String(length=32)), server_default='{}', nullable=False),
    sa.Column('hours_min', sa.Float(), nullable=True),
    sa.Column('hours_max', sa.Float(), nullable=True),
    sa.Column('walk_in_interest', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('last_position', Geography(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeogFromText', name='geography'), nullable=True),
    sa.Column('last_position_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobseekers')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_jobseekers_token_hash'))
    )
    op.create_geospatial_index('ix_jobseekers_last_position', 'jobseekers', ['last_position'], unique=False, postgresql_using='gist', postgresql_where=sa.text('last_position IS NOT NULL'), postgresql_ops={})
    op.create_table('occupations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uri', sa.String(length=255), nullable=False),
    sa.Column('concept_type', sa.String(length=32), nullable=False),
    sa.Column('isco_code', sa.String(length=16), server_default='', nullable=False),
    sa.Column('preferred_label', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occupations')),
    sa.UniqueConstraint('uri', name=op.f('uq_occupations_uri'))
    )
    op.create_table('skills',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uri', sa.String(length=255), nullable=False),
    sa.Column('skill_type', sa.String(length=32), server_default='', nullable=False),
    sa.Column('reuse_level', sa.String(length=32), server_default='', nullable=False),
    sa.Column('preferred_label', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skills')),
    sa.UniqueConstraint('uri', name=op.f('uq_skills_uri'))
    )
    op.create_table('caseload',
    sa.Column('consultant_id', sa.UUID(), nullable=False),
    sa.Column('jobseeker_id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['consultant_id'], ['consultants.id'], name=op.f('fk_caseload_consultant_id_consultants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['jobseeker_id'], ['jobseekers.id'], name=op.f('fk_caseload_jobseeker_id_jobseekers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('consultant_id', 'jobseeker_id', name=op.f('pk_caseload'))
    )
    op.create_index(op.f('ix_caseload_jobseeker_id'), 'caseload', ['jobseeker_id'], unique=False)
    op.create_table('occupation_skills',
    sa.Column('occupation_id', sa.Integer(), nullable=False),
    sa.Column('skill_id', sa.Integer(), nullable=False),
    sa.Column('relation_type', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['occupation_id'], ['occupations.id'], name=op.f('fk_occupation_skills_occupation_id_occupations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f('fk_occupation_skills_skill_id_skills'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('occupation_id', 'skill_id', name=op.f('pk_occupation_skills'))
    )
    op.create_index(op.f('ix_occupation_skills_skill_id'), 'occupation_skills', ['skill_id'], unique=False)
    op.create_table('skill_broader',
    sa.Column('skill_id', sa.Integer(), nullable=False),
    sa.Column('broader_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['broader_id'], ['skills.id'], name=op.f('fk_skill_broader_broader_id_skills'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f('fk_skill_broader_skill_id_skills'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('skill_id', 'broader_id', name=op.f('pk_skill_broader'))
    )
    op.create_index(op.f('ix_skill_broader_broader_id'), 'skill_broader', ['broader_id'], unique=False)
    op.create_table('skill_relations',
    sa.Column('skill_id', sa.Integer(), nullable=False),
    sa.Column('related_id', sa.Integer(), nullable=False),
    sa.Column('relation_type', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['related_id'], ['skills.id'], name=op.f('fk_skill_relations_related_id_skills'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f('fk_skill_relations_skill_id_skills'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('skill_id', 'related_id', name=op.f('pk_skill_relations'))
    )
    op.create_index(op.f('ix_skill_relations_related_id'), 'skill_relations', ['related_id'], unique=False)
    op.create_geospatial_table('vacancies',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('employer_id', sa.UUID(), nullable=False),
    sa.Column('source', sa.Enum('api', 'import', name='vacancy_source'), server_default='api', nullable=False),
    sa.Column('source_ref', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('occupation_id', sa.Integer(), nullable=True),
    sa.Column('location', Geography(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeogFromText', name='geography', nullable=False), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('required_skill_ids', postgresql.ARRAY(sa.Integer()), server_default='{}', nullable=False),
    sa.Column('required_skill_weights', postgresql.ARRAY(sa.REAL()), server_default='{}', nullable=False),
    sa.Column('optional_skill_ids', postgresql.ARRAY(sa.Integer()), server_default='{}', nullable=False),
    sa.Column('required_certificates', postgresql.ARRAY(sa.String(length=40)), server_default='{}', nullable=False),
    sa.Column('work_profile', postgresql.ARRAY(sa.REAL()), nullable=True),
    sa.Column('job_type', sa.Enum('ordinary', 'fritidsjob', 'smaajob', 'virksomhedspraktik', 'loentilskud', 'elev_laerling', 'igu', 'fleksjob', name='job_type'), nullable=False),
    sa.Column('hours_per_week', sa.Float(), nullable=False),
    sa.Column('shift_start', sa.Time(), nullable=True),
    sa.Column('shift_end', sa.Time(), nullable=True),
    sa.Column('hazardous', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('light_work', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('min_age', sa.SmallInteger(), server_default='15', nullable=False),
    sa.Column('walk_in', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('opening_hours', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('openings', sa.SmallInteger(), server_default='1', nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', 'expired', name='vacancy_status'), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('cardinality(required_skill_ids) = cardinality(required_skill_weights)', name=op.f('ck_vacancies_required_weights')),
    sa.CheckConstraint('hours_per_week > 0 AND hours_per_week <= 80', name=op.f('ck_vacancies_hours')),
    sa.CheckConstraint('min_age BETWEEN 13 AND 99', name=op.f('ck_vacancies_min_age')),
    sa.CheckConstraint('openings >= 1', name=op.f('ck_vacancies_openings')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_vacancies_employer_id_employers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['occupation_id'], ['occupations.id'], name=op.f('fk_vacancies_occupation_id_occupations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vacancies')),
    sa.UniqueConstraint('source', 'source_ref', name='uq_vacancies_source_ref')
    )
    op.create_index(op.f('ix_vacancies_employer_id'), 'vacancies', ['employer_id'], unique=False)
    op.create_geospatial_index('ix_vacancies_open_location', 'vacancies', ['location'], unique=False, postgresql_using='gist', postgresql_where=sa.text("status = 'open'"), postgresql_ops={})
    op.create_table('match_reviews',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('consultant_id', sa.UUID(), nullable=False),
    sa.Column('jobseeker_id', sa.UUID(), nullable=False),
    sa.Column('vacancy_id', sa.UUID(), nullable=False),
    sa.Column('verdict', sa.Enum('good', 'bad', name='verdict'), nullable=False),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('explanation', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['consultant_id'], ['consultants.id'], name=op.f('fk_match_reviews_consultant_id_consultants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['jobseeker_id'], ['jobseekers.id'], name=op.f('fk_match_reviews_jobseeker_id_jobseekers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vacancy_id'], ['vacancies.id'], name=op.f('fk_match_reviews_vacancy_id_vacancies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_reviews'))
    )
    op.create_index(op.f('ix_match_reviews_consultant_id'), 'match_reviews', ['consultant_id'], unique=False)
    op.create_index(op.f('ix_match_reviews_jobseeker_id'), 'match_reviews', ['jobseeker_id'], unique=False)
    op.create_index(op.f('ix_match_reviews_vacancy_id'), 'match_reviews', ['vacancy_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_match_reviews_vacancy_id'), table_name='match_reviews')
    op.drop_index(op.f('ix_match_reviews_jobseeker_id'), table_name='match_reviews')
    op.drop_index(op.f('ix_match_reviews_consultant_id'), table_name='match_reviews')
    op.drop_table('match_reviews')
    op.drop_geospatial_index('ix_vacancies_open_location', table_name='vacancies', postgresql_using='gist', postgresql_where=sa.text("status = 'open'"), column_name='location')
    op.drop_index(op.f('ix_vacancies_employer_id'), table_name='vacancies')
    op.drop_geospatial_table('vacancies')
    op.drop_index(op.f('ix_skill_relations_related_id'), table_name='skill_relations')
    op.drop_table('skill_relations')
    op.drop_index(op.f('ix_skill_broader_broader_id'), table_name='skill_broader')
    op.drop_table('skill_broader')
    op.drop_index(op.f('ix_occupation_skills_skill_id'), table_name='occupation_skills')
    op.drop_table('occupation_skills')
    op.drop_index(op.f('ix_caseload_jobseeker_id'), table_name='caseload')
    op.drop_table('caseload')
    op.drop_table('skills')
    op.drop_table('occupations')
    op.drop_geospatial_index('ix_jobseekers_last_position', table_name='jobseekers', postgresql_using='gist', postgresql_where=sa.text('last_position IS NOT NULL'), column_name='last_position')
    op.drop_geospatial_table('jobseekers')
    op.drop_table('idempotency_keys')
    op.drop_table('employers')
    op.drop_table('consultants')
    op.drop_index(op.f('ix_concept_labels_concept_uri'), table_name='concept_labels')
    op.drop_table('concept_labels')
    op.drop_index(op.f('ix_audit_log_subject_id'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_actor_id'), table_name='audit_log')
    op.drop_table('audit_log')
    for enum_name in ("verdict", "vacancy_status", "job_type", "vacancy_source"):
        op.execute(f"DROP TYPE IF EXISTS {enum_name}")
