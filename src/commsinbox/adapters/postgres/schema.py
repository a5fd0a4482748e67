"""Every table, in SQLAlchemy Core. Team-scoped tables carry `team_id` and are listed in TEAM_TABLES."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

APP_ROLE = "commsinbox_app"
Id = UUID(as_uuid=False)
Stamp = sa.DateTime(timezone=True)
Money = sa.Numeric(18, 4)


def _team_id(*, references_team: bool = True) -> sa.Column[str]:
    """`references_team=False` for high-volume child rows: their composite key to a parent already pins the
    team, and a foreign key to `teams` on every insert would make concurrent writers share a lock on one row."""
    if not references_team:
        return sa.Column("team_id", Id, nullable=False)
    return sa.Column("team_id", Id, sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False)


users = sa.Table(
    "users", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("email", sa.Text, nullable=False, unique=True),
    sa.Column("full_name", sa.Text),
    sa.Column("password_hash", sa.Text),
    sa.Column("created_at", Stamp, nullable=False),
)

auth_tokens = sa.Table(
    "auth_tokens", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("expires_at", Stamp),
    sa.Column("revoked_at", Stamp),
)

auth_throttle = sa.Table(
    "auth_throttle", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("window_start", Stamp, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
)

teams = sa.Table(
    "teams", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("base_currency", sa.String(3), nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("quiet_hours", sa.Text),
    sa.Column("plan", sa.Text, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("agents_see_unassigned", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("reply_grace_minutes", sa.Integer),
)

team_memberships = sa.Table(
    "team_memberships", metadata,
    _team_id(),
    sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("permissions", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "user_id"),
)

team_settings = sa.Table(
    "team_settings", metadata,
    _team_id(),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("value", JSONB, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "key"),
)

clients = sa.Table(
    "clients", metadata,
    sa.Column("id", Id, primary_key=True),
    _team_id(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("phone", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("team_id", "id"),
    sa.Index("ix_clients_team_created", "team_id", sa.text("created_at DESC"), sa.text("id DESC")),
    sa.Index("ix_clients_team_phone", "team_id", "phone"),
    sa.Index("ix_clients_team_email", "team_id", "email"),
)


def _record(name: str, *columns: sa.Column | sa.Constraint, client_required: bool = False) -> sa.Table:
    """A team record that may point at one of the team's clients (the FK includes team_id)."""
    return sa.Table(
        name, metadata,
        sa.Column("id", Id, primary_key=True),
        _team_id(),
        sa.Column("client_id", Id, nullable=not client_required),
        *columns,
        sa.Column("created_at", Stamp, nullable=False),
        sa.ForeignKeyConstraint(["team_id", "client_id"], ["clients.team_id", "clients.id"], name=f"fk_{name}_client",
                                ondelete="CASCADE" if client_required else "SET NULL (client_id)"),
        sa.Index(f"ix_{name}_team_created", "team_id", sa.text("created_at DESC"), sa.text("id DESC")),
        sa.Index(f"ix_{name}_team_client", "team_id", "client_id"),
    )


orders = _record("orders", sa.Column("number", sa.Text, nullable=False), sa.Column("amount", Money),
                 sa.Column("currency", sa.String(3)), sa.UniqueConstraint("team_id", "number"))
invoices = _record("invoices", sa.Column("number", sa.Text, nullable=False), sa.Column("amount", Money),
                   sa.Column("currency", sa.String(3)), sa.UniqueConstraint("team_id", "number"))
transactions = _record("transactions", sa.Column("amount", Money, nullable=False),
                       sa.Column("currency", sa.String(3), nullable=False), sa.Column("description", sa.Text),
                       sa.UniqueConstraint("team_id", "id"))
measurements = _record("measurements", sa.Column("name", sa.Text, nullable=False),
                       sa.Column("value", Money, nullable=False), sa.Column("unit", sa.Text), client_required=True)

vault_files = sa.Table(
    "vault_files", metadata,
    _team_id(),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "path"),
)

# Vault files attached to a transaction: the file is the vault's (e.g. a message attachment), never a copy.
transaction_files = sa.Table(
    "transaction_files", metadata,
    sa.Column("team_id", Id, nullable=False),
    sa.Column("transaction_id", Id, nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("attached_at", Stamp, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "transaction_id", "path"),
    sa.ForeignKeyConstraint(["team_id", "transaction_id"], ["transactions.team_id", "transactions.id"],
                            name="fk_transaction_files_transaction", ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["team_id", "path"], ["vault_files.team_id", "vault_files.path"],
                            name="fk_transaction_files_file", ondelete="CASCADE"),
)

# -- messaging ------------------------------------------------------------------------------------------------

communication_accounts = sa.Table(
    "communication_accounts", metadata,
    sa.Column("id", Id, primary_key=True),
    _team_id(),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("external_id", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("credentials_sealed", sa.Text),
    sa.Column("settings", JSONB, nullable=False, server_default="{}"),
    sa.Column("rate_config", JSONB, nullable=False, server_default="{}"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("team_id", "id"),
    sa.UniqueConstraint("provider", "external_id"),
)

# Webhooks name an account, not a team: this system table (no RLS) routes them to the team.
account_routes = sa.Table(
    "account_routes", metadata,
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("external_id", sa.Text, nullable=False),
    sa.Column("team_id", Id, sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    sa.Column("account_id", Id, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),  # false until verified
    sa.PrimaryKeyConstraint("provider", "external_id"),
)

contacts = sa.Table(
    "contacts", metadata,
    sa.Column("id", Id, primary_key=True),
    _team_id(),
    sa.Column("display_name", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("client_id", Id),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("team_id", "id"),
    sa.ForeignKeyConstraint(["team_id", "client_id"], ["clients.team_id", "clients.id"],
                            name="fk_contacts_client", ondelete="SET NULL (client_id)"),
    sa.Index("ix_contacts_team_phone", "team_id", "phone"),
)

contact_identities = sa.Table(
    "contact_identities", metadata,
    _team_id(references_team=False),
    sa.Column("kind", sa.Text, nullable=False),  # phone | wa_id | igsid
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("contact_id", Id, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "kind", "value"),
    sa.ForeignKeyConstraint(["team_id", "contact_id"], ["contacts.team_id", "contacts.id"],
                            name="fk_contact_identities_contact", ondelete="CASCADE"),
)

communication_threads = sa.Table(
    "communication_threads", metadata,
    sa.Column("id", Id, primary_key=True),
    _team_id(references_team=False),
    sa.Column("account_id", Id, nullable=False),
    sa.Column("contact_id", Id, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("external_contact_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("last_message_at", Stamp, nullable=False),
    sa.Column("last_inbound_at", Stamp),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("assignee_id", Id),
    sa.Column("snoozed_until", Stamp),
    sa.Column("unread_count", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("team_id", "id"),
    sa.ForeignKeyConstraint(["team_id", "account_id"], ["communication_accounts.team_id",
                            "communication_accounts.id"], name="fk_threads_account", ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["team_id", "contact_id"], ["contacts.team_id", "contacts.id"],
                            name="fk_threads_contact", ondelete="CASCADE"),
    sa.Index("ix_threads_team_last_message", "team_id", sa.text("last_message_at DESC"), sa.text("id DESC")),
    sa.Index("ix_threads_account_contact", "account_id", "contact_id", sa.text("created_at DESC")),
    sa.Index("ix_threads_team_assignee", "team_id", "assignee_id", sa.text("last_message_at DESC"),
             sa.text("id DESC")),
    sa.Index("ix_threads_team_contact", "team_id", "contact_id"),  # behind fk_threads_contact, and search by name
    # one active thread per account + contact; resolved ones are history
    sa.Index("uq_threads_active", "account_id", "contact_id", unique=True,
             postgresql_where=sa.text("status <> 'resolved'")),
)

communication_messages = sa.Table(
    "communication_messages", metadata,
    sa.Column("id", Id, primary_key=True),
    _team_id(references_team=False),
    sa.Column("thread_id", Id, nullable=False),
    sa.Column("account_id", Id, nullable=False),
    sa.Column("provider_message_id", sa.Text),  # NULL: an outbound message the provider has not accepted yet
    sa.Column("direction", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("content", sa.Text),
    sa.Column("meta", JSONB, nullable=False, server_default="{}"),
    sa.Column("sent_at", Stamp, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("delivered_at", Stamp),
    sa.Column("read_at", Stamp),
    sa.Column("deleted_at", Stamp),
    sa.Column("error_code", sa.Text),
    sa.Column("error_message", sa.Text),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("idempotency_key", sa.Text),  # outbound: the client's key, one send per key and team
    sa.Column("dispatch", sa.Text),  # outbound: waiting → sending → done
    sa.Column("send_after", Stamp),  # outbound: when the send job may take it (again)
    sa.Column("send_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Index("uq_messages_idempotency", "team_id", "idempotency_key", unique=True,
             postgresql_where=sa.text("idempotency_key IS NOT NULL")),
    sa.Index("ix_messages_dispatch", "team_id", "send_after",
             postgresql_where=sa.text("dispatch IN ('waiting', 'sending')")),
    sa.UniqueConstraint("team_id", "id"),
    sa.UniqueConstraint("account_id", "provider_message_id"),
    sa.ForeignKeyConstraint(["team_id", "thread_id"], ["communication_threads.team_id",
                            "communication_threads.id"], name="fk_messages_thread", ondelete="CASCADE"),
    sa.Index("ix_messages_thread_sent", "thread_id", sa.text("sent_at DESC"), sa.text("id DESC")),
)

message_attachments = sa.Table(
    "message_attachments", metadata,
    sa.Column("id", Id, primary_key=True),
    _team_id(references_team=False),
    sa.Column("message_id", Id, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("source", JSONB, nullable=False),  # where to fetch it: provider media id or URL
    sa.Column("storage_path", sa.Text),
    sa.Column("content_type", sa.Text),
    sa.Column("size", sa.BigInteger),
    sa.Column("checksum", sa.String(64)),
    sa.Column("error", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retry_after", Stamp),  # when a download may be tried (again); NULL: stored, or given up
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("message_id", "position"),
    sa.Index("ix_attachments_due", "team_id", "retry_after", postgresql_where=sa.text("storage_path IS NULL")),
    sa.ForeignKeyConstraint(["team_id", "message_id"], ["communication_messages.team_id",
                            "communication_messages.id"], name="fk_attachments_message", ondelete="CASCADE"),
)

# Every status the provider reported, kept even before its message exists (applied when it appears).
message_status_events = sa.Table(
    "message_status_events", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    _team_id(references_team=False),
    sa.Column("account_id", Id, nullable=False),
    sa.Column("provider_message_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("at", Stamp, nullable=False),
    sa.Column("error_code", sa.Text),
    sa.Column("error_title", sa.Text),
    sa.UniqueConstraint("account_id", "provider_message_id", "status"),
    sa.ForeignKeyConstraint(["team_id", "account_id"], ["communication_accounts.team_id", "communication_accounts.id"],
                            name="fk_status_events_account", ondelete="CASCADE"),
)

# -- inbox operations ------------------------------------------------------------------------------------------

labels = sa.Table(
    "labels", metadata,
    sa.Column("id", Id, primary_key=True),
    _team_id(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("team_id", "id"),
    sa.Index("uq_labels_team_name", "team_id", sa.text("lower(name)"), unique=True),
)

thread_labels = sa.Table(
    "thread_labels", metadata,
    _team_id(references_team=False),
    sa.Column("thread_id", Id, nullable=False),
    sa.Column("label_id", Id, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "thread_id", "label_id"),
    sa.ForeignKeyConstraint(["team_id", "thread_id"], ["communication_threads.team_id", "communication_threads.id"],
                            name="fk_thread_labels_thread", ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["team_id", "label_id"], ["labels.team_id", "labels.id"],
                            name="fk_thread_labels_label", ondelete="CASCADE"),
    sa.Index("ix_thread_labels_label", "team_id", "label_id"),
)

# Search terms (migration 0009 keeps them by trigger; docs/inbox.md#search): btree conditions on them stay
# usable under RLS, where a full-text `@@` is not leakproof and would never reach its index.
contact_search_terms = sa.Table(
    "contact_search_terms", metadata,
    _team_id(references_team=False),
    sa.Column("field", sa.Text, nullable=False),  # name: a word of the name | phone: a 4+ digit suffix of it
    sa.Column("term", sa.Text(collation="C"), nullable=False),  # bytewise order: a prefix is one index range
    sa.Column("contact_id", Id, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "field", "term", "contact_id"),
    sa.CheckConstraint("field IN ('name', 'phone')", name="field"),
    sa.Index("ix_contact_search_terms_contact", "team_id", "contact_id"),
)

message_search_terms = sa.Table(
    "message_search_terms", metadata,
    _team_id(references_team=False),
    sa.Column("term", sa.Text(collation="C"), nullable=False),  # one distinct word of the message
    sa.Column("thread_id", Id, nullable=False),
    sa.Column("message_id", Id, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "term", "thread_id", "message_id"),
    sa.Index("ix_message_search_terms_thread", "thread_id"),
)

# A thread linked to one of the team's business records (the record is checked by the use case).
thread_links = sa.Table(
    "thread_links", metadata,
    _team_id(references_team=False),
    sa.Column("thread_id", Id, nullable=False),
    sa.Column("record_type", sa.Text, nullable=False),  # client | order | invoice | transaction
    sa.Column("record_id", Id, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "thread_id", "record_type", "record_id"),
    sa.ForeignKeyConstraint(["team_id", "thread_id"], ["communication_threads.team_id", "communication_threads.id"],
                            name="fk_thread_links_thread", ondelete="CASCADE"),
    sa.CheckConstraint("record_type IN ('client', 'order', 'invoice', 'transaction')", name="record_type"),
    sa.Index("ix_thread_links_record", "team_id", "record_type", "record_id"),
)

# Domain events written in the same transaction as the change, for automations and live updates.
outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    _team_id(references_team=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("occurred_at", Stamp, nullable=False),
    sa.Column("published_at", Stamp),
    # the writing transaction: the live stream reads in (tx, id) order, only below the snapshot's xmin
    sa.Column("tx", sa.BigInteger, nullable=False, server_default=sa.text("(pg_current_xact_id())::text::bigint")),
    sa.Index("ix_outbox_unpublished", "id", postgresql_where=sa.text("published_at IS NULL")),
    sa.Index("ix_outbox_team_position", "team_id", "tx", "id"),
)

# Every opt-in and opt-out, per contact and channel: the latest record is the contact's consent.
consent_records = sa.Table(
    "consent_records", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    _team_id(references_team=False),
    sa.Column("contact_id", Id, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("at", Stamp, nullable=False),
    sa.CheckConstraint("status IN ('opted_in', 'opted_out')", name="status"),
    sa.ForeignKeyConstraint(["team_id", "contact_id"], ["contacts.team_id", "contacts.id"],
                            name="fk_consent_records_contact", ondelete="CASCADE"),
    sa.Index("ix_consent_latest", "team_id", "contact_id", "channel", "at", "id"),
)

# WhatsApp message templates, one per account, name and language; `status` follows the provider's review.
message_templates = sa.Table(
    "message_templates", metadata,
    sa.Column("id", Id, primary_key=True),
    _team_id(references_team=False),
    sa.Column("account_id", Id, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("variable_count", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("provider_template_id", sa.Text),  # Meta's template id, or Twilio's ContentSid (HX…)
    sa.Column("rejection_reason", sa.Text),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
    sa.UniqueConstraint("team_id", "account_id", "name", "language"),
    sa.CheckConstraint("status IN ('draft', 'pending', 'approved', 'rejected', 'paused', 'disabled')",
                       name="status"),
    sa.CheckConstraint("category IN ('marketing', 'utility', 'authentication')", name="category"),
    sa.ForeignKeyConstraint(["team_id", "account_id"], ["communication_accounts.team_id",
                            "communication_accounts.id"], name="fk_message_templates_account", ondelete="CASCADE"),
    sa.Index("ix_message_templates_provider_id", "account_id", "provider_template_id"),
)

# Append-only, hash-chained record of who did what (consent, sends refused, accounts, templates). The application
# role may only SELECT and INSERT; a trigger refuses UPDATE, DELETE and TRUNCATE (migration 0008, docs/audit.md).
audit_log = sa.Table(
    "audit_log", metadata,
    _team_id(references_team=False),  # outlives nothing it names: no foreign keys, so no cascade can delete it
    sa.Column("seq", sa.BigInteger, nullable=False),  # 1, 2, 3 ... per team, no gaps
    sa.Column("at", Stamp, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),  # user:<id>, system, provider, keyword
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("details", JSONB, nullable=False),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "seq"),
    sa.CheckConstraint("seq >= 1", name="seq"),
)

# GCRA state of the rate caps (system table: keys are account ids, optionally with a recipient).
rate_limits = sa.Table(
    "rate_limits", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("tat", Stamp, nullable=False),  # theoretical arrival time of the next send
)

# Raw webhook bodies, stored before the provider gets its 2xx (system table: the team is not known yet).
inbound_events = sa.Table(
    "inbound_events", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("event_key", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("received_at", Stamp, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # pending | done | unrouted | failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Stamp, nullable=False),  # a claim's lease, or the backoff after a failure
    sa.Column("last_error", sa.Text),
    sa.Column("account_keys", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.UniqueConstraint("provider", "event_key"),
    sa.Index("ix_inbound_events_due", "next_attempt_at", postgresql_where=sa.text("state IN ('pending', 'failed')")),
)

# One value sealed under each key ever used: start-up opens them all, so a missing or wrong key is a clear
# error instead of garbage at the first decrypt.
keyring_canaries = sa.Table(
    "keyring_canaries", metadata,
    sa.Column("key_id", sa.Text, primary_key=True),
    sa.Column("sealed", sa.Text, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
)

# Row-level security: every table here has ENABLE + FORCE RLS and a team policy (see the migration).
TEAM_TABLES = ("teams", "team_memberships", "team_settings", "clients", "orders", "invoices", "transactions",
               "measurements", "vault_files", "communication_accounts", "contacts", "contact_identities",
               "communication_threads", "communication_messages", "message_attachments", "message_status_events",
               "outbox", "labels", "thread_labels", "thread_links", "transaction_files", "consent_records",
               "message_templates", "audit_log", "contact_search_terms", "message_search_terms")
APPEND_ONLY_TABLES = ("audit_log",)  # the application role may SELECT and INSERT only
SYSTEM_TABLES = ("users", "auth_tokens", "auth_throttle", "account_routes", "inbound_events", "keyring_canaries",
                 "rate_limits")
APP_TABLES = (*SYSTEM_TABLES, *TEAM_TABLES)
