"""integrations, webhook outbox, invite codes, municipality consent

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 13:40:00

- `consultants.municipality`: the municipality code (e.g. 0751 Aarhus) whose
  jobcenter the consultant works for; events about a person go only to that
  municipality's integrations.
- `jobseekers.share_with_municipality` (+ when given / withdrawn): the young
  person's own consent that their consultant's municipality may receive events
  about them (docs/privacy.md). Off until they say yes in the app.
- `integrations`: a case system of one municipality, a principal with its own
  token prefix (`jotr_int_`), only the token's hash stored.
- `webhook_subscriptions`: url, type filter and signing secret (kept in clear:
  HMAC needs it; shown to the integration once).
- `integration_events`: the outbox and pull feed. `txid` is the writing
  transaction's id: the feed exposes only events of transactions older than every
  running one, and orders by (txid, id), so a cursor never skips an event that
  commits later (docs/integrations.md, "Cursor rules").
- `webhook_deliveries`: one row per event and subscription, written in the
  event's transaction; the dispatcher claims due rows with SKIP LOCKED.
- `consultant_invites`: short single-use codes (hashed) a young person enters.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TXID = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
    op.add_column(
        "consultants",
        sa.Column("municipality", sa.String(4), nullable=False, server_default="0751"),
    )
    op.add_column(
        "jobseekers",
        sa.Column(
            "share_with_municipality", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )
    op.add_column("jobseekers", sa.Column("share_given_at", sa.DateTime(timezone=True)))
    op.add_column("jobseekers", sa.Column("share_withdrawn_at", sa.DateTime(timezone=True)))
    op.create_table(
        "integrations",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("municipality", sa.String(4), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_integrations"),
        sa.UniqueConstraint("token_hash", name="uq_integrations_token_hash"),
    )  # fmt: skip
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("integration_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("types", postgresql.ARRAY(sa.String(40)), nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscriptions"),
        sa.ForeignKeyConstraint(
            ["integration_id"], ["integrations.id"], ondelete="CASCADE",
            name="fk_webhook_subscriptions_integration_id_integrations",
        ),
    )  # fmt: skip
    op.create_index(
        "ix_webhook_subscriptions_integration_id", "webhook_subscriptions", ["integration_id"]
    )
    op.create_table(
        "integration_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("txid", sa.BigInteger(), server_default=sa.text(TXID), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("jobseeker_id", postgresql.UUID(as_uuid=True)),
        sa.Column("municipalities", postgresql.ARRAY(sa.String(4))),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_integration_events"),
        sa.ForeignKeyConstraint(
            ["jobseeker_id"], ["jobseekers.id"], ondelete="CASCADE",
            name="fk_integration_events_jobseeker_id_jobseekers",
        ),
    )  # fmt: skip
    op.create_index("ix_integration_events_txid_id", "integration_events", ["txid", "id"])
    op.create_index("ix_integration_events_jobseeker_id", "integration_events", ["jobseeker_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("subscription_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_status", sa.SmallInteger()),
        sa.Column("last_error", sa.String(200)),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("dead_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.ForeignKeyConstraint(
            ["event_id"], ["integration_events.id"], ondelete="CASCADE",
            name="fk_webhook_deliveries_event_id_integration_events",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["webhook_subscriptions.id"], ondelete="CASCADE",
            name="fk_webhook_deliveries_subscription_id_webhook_subscriptions",
        ),
        sa.UniqueConstraint("event_id", "subscription_id", name="uq_webhook_deliveries_event_id"),
    )  # fmt: skip
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("delivered_at IS NULL AND dead_at IS NULL"),
    )
    op.create_index(
        "ix_webhook_deliveries_subscription_id", "webhook_deliveries", ["subscription_id"]
    )
    op.create_table(
        "consultant_invites",
        sa.Column("code_hash", sa.LargeBinary(), primary_key=True),
        sa.Column("consultant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("code_hash", name="pk_consultant_invites"),
        sa.ForeignKeyConstraint(
            ["consultant_id"], ["consultants.id"], ondelete="CASCADE",
            name="fk_consultant_invites_consultant_id_consultants",
        ),
    )  # fmt: skip
    op.create_index("ix_consultant_invites_consultant_id", "consultant_invites", ["consultant_id"])


def downgrade() -> None:
    op.drop_table("consultant_invites")
    op.drop_table("webhook_deliveries")
    op.drop_table("integration_events")
    op.drop_table("webhook_subscriptions")
    op.drop_table("integrations")
    op.drop_column("jobseekers", "share_withdrawn_at")
    op.drop_column("jobseekers", "share_given_at")
    op.drop_column("jobseekers", "share_with_municipality")
    op.drop_column("consultants", "municipality")
