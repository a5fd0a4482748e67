"""inbox search terms, thread indexes for the assignee filter and the contact key

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25

Search used a GIN index on `to_tsvector(content)` that row-level security never lets PostgreSQL use: `@@` is
not leakproof, so its condition cannot run before the team policy. Search now reads two term tables through
btree indexes on `(team_id, …, term, …)`, whose conditions (uuid and text equality and ranges) are leakproof:

- `contact_search_terms`: the words of each contact's name (`field = 'name'`) and every suffix of four or more
  digits of their phone (`field = 'phone'`), so a prefix range on them finds digits anywhere in the number;
- `message_search_terms`: the distinct words of each message, with its thread.

Triggers keep them in step with `contacts` and `communication_messages` (statement triggers over transition tables
for inserts, so a batch costs one extra statement; row triggers for the rare update of a name, phone or text; and
deletes, which follow threads and contacts when they go). They run as the writer (SECURITY INVOKER), under the same
team policy. The existing rows are indexed here. `search_vector` and its GIN index go: nothing can use them.

Words: lower-cased runs of letters, digits and `_` (`\\W+` splits), at most 64 characters (longer ones are cut),
the same rule as `commsinbox.domain.model.search` applies to a query and as the in-memory adapter uses.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from commsinbox.adapters.postgres import rls

APP_ROLE = "commsinbox_app"

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

FUNCTIONS = [
    r"""CREATE FUNCTION commsinbox_search_words(body text) RETURNS SETOF text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT DISTINCT left(w, 64) FROM regexp_split_to_table(lower(coalesce(body, '')), '\W+') AS w WHERE w <> ''
        $$""",
    r"""CREATE FUNCTION commsinbox_phone_suffixes(phone text) RETURNS SETOF text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT DISTINCT right(d, n) FROM (SELECT regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g') AS d) p,
               generate_series(4, length(d)) AS n
        $$""",
    """CREATE FUNCTION commsinbox_contact_terms(team uuid, contact uuid, name text, phone text)
        RETURNS TABLE (team_id uuid, field text, term text, contact_id uuid)
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT team, 'name', w, contact FROM commsinbox_search_words(name) AS w
        UNION ALL
        SELECT team, 'phone', s, contact FROM commsinbox_phone_suffixes(phone) AS s
        $$""",
    """CREATE FUNCTION commsinbox_index_new_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO contact_search_terms (team_id, field, term, contact_id)
        SELECT x.* FROM written c, commsinbox_contact_terms(c.team_id, c.id, c.display_name, c.phone) x;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION commsinbox_reindex_contact() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            DELETE FROM contact_search_terms WHERE team_id = OLD.team_id AND contact_id = OLD.id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO contact_search_terms (team_id, field, term, contact_id)
            SELECT * FROM commsinbox_contact_terms(NEW.team_id, NEW.id, NEW.display_name, NEW.phone);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION commsinbox_index_new_messages() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO message_search_terms (team_id, term, thread_id, message_id)
        SELECT m.team_id, w, m.thread_id, m.id FROM written m, commsinbox_search_words(m.content) AS w;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION commsinbox_reindex_message() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM message_search_terms
        WHERE team_id = OLD.team_id AND thread_id = OLD.thread_id AND message_id = OLD.id;
        IF TG_OP = 'UPDATE' THEN
            INSERT INTO message_search_terms (team_id, term, thread_id, message_id)
            SELECT NEW.team_id, w, NEW.thread_id, NEW.id FROM commsinbox_search_words(NEW.content) AS w;
        END IF;
        RETURN NULL;
    END $$""",
]
TRIGGERS = [
    """CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts REFERENCING NEW TABLE AS written
       FOR EACH STATEMENT EXECUTE FUNCTION commsinbox_index_new_contacts()""",
    """CREATE TRIGGER contacts_search_change AFTER UPDATE OF display_name, phone OR DELETE ON contacts
       FOR EACH ROW EXECUTE FUNCTION commsinbox_reindex_contact()""",
    """CREATE TRIGGER messages_search_insert AFTER INSERT ON communication_messages REFERENCING NEW TABLE AS written
       FOR EACH STATEMENT EXECUTE FUNCTION commsinbox_index_new_messages()""",
    """CREATE TRIGGER messages_search_change AFTER UPDATE OF content, thread_id OR DELETE ON communication_messages
       FOR EACH ROW EXECUTE FUNCTION commsinbox_reindex_message()""",
]
DROPS = [
    "DROP TRIGGER messages_search_change ON communication_messages",
    "DROP TRIGGER messages_search_insert ON communication_messages",
    "DROP TRIGGER contacts_search_change ON contacts",
    "DROP TRIGGER contacts_search_insert ON contacts",
    "DROP FUNCTION commsinbox_reindex_message()",
    "DROP FUNCTION commsinbox_index_new_messages()",
    "DROP FUNCTION commsinbox_reindex_contact()",
    "DROP FUNCTION commsinbox_index_new_contacts()",
    "DROP FUNCTION commsinbox_contact_terms(uuid, uuid, text, text)",
    "DROP FUNCTION commsinbox_phone_suffixes(text)",
    "DROP FUNCTION commsinbox_search_words(text)",
]
# The migration runs as the tables' owner, whom FORCE ROW LEVEL SECURITY restricts like anyone else; lifting FORCE
# on the two source tables inside this transaction (ALTER TABLE holds its lock until commit, so no one else sees
# the gap) lets the backfill read every team's rows. The term tables get their own row-level security after the
# backfill has written every team's terms into them.
BACKFILL = [
    "ALTER TABLE contacts NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE communication_messages NO FORCE ROW LEVEL SECURITY",
    """INSERT INTO contact_search_terms (team_id, field, term, contact_id)
       SELECT x.* FROM contacts c, commsinbox_contact_terms(c.team_id, c.id, c.display_name, c.phone) x""",
    """INSERT INTO message_search_terms (team_id, term, thread_id, message_id)
       SELECT m.team_id, w, m.thread_id, m.id FROM communication_messages m, commsinbox_search_words(m.content) w""",
    "ALTER TABLE communication_messages FORCE ROW LEVEL SECURITY",
    "ALTER TABLE contacts FORCE ROW LEVEL SECURITY",
]


def upgrade() -> None:
    op.create_table('contact_search_terms',
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('field', sa.Text(), nullable=False),
    sa.Column('term', sa.Text(collation='C'), nullable=False),
    sa.Column('contact_id', sa.UUID(as_uuid=False), nullable=False),
    sa.CheckConstraint("field IN ('name', 'phone')", name=op.f('ck_contact_search_terms_field')),
    sa.PrimaryKeyConstraint('team_id', 'field', 'term', 'contact_id', name=op.f('pk_contact_search_terms'))
    )
    op.create_index('ix_contact_search_terms_contact', 'contact_search_terms', ['team_id', 'contact_id'],
                    unique=False)
    op.create_table('message_search_terms',
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('term', sa.Text(collation='C'), nullable=False),
    sa.Column('thread_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('message_id', sa.UUID(as_uuid=False), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'term', 'thread_id', 'message_id', name=op.f('pk_message_search_terms'))
    )
    op.create_index('ix_message_search_terms_thread', 'message_search_terms', ['thread_id'], unique=False)
    for statement in (*FUNCTIONS, *BACKFILL):  # before the term tables' own row-level security exists
        op.execute(statement)
    for table in ('contact_search_terms', 'message_search_terms'):
        for statement in (*rls.grant_ddl(APP_ROLE, table), *rls.tenant_table_ddl(table)):
            op.execute(statement)
    for statement in TRIGGERS:
        op.execute(statement)
    op.drop_index('ix_messages_search', table_name='communication_messages', postgresql_using='gin')
    op.drop_column('communication_messages', 'search_vector')
    op.create_index('ix_threads_team_assignee', 'communication_threads',
                    ['team_id', 'assignee_id', sa.text('last_message_at DESC'), sa.text('id DESC')], unique=False)
    op.create_index('ix_threads_team_contact', 'communication_threads', ['team_id', 'contact_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_threads_team_contact', table_name='communication_threads')
    op.drop_index('ix_threads_team_assignee', table_name='communication_threads')
    op.add_column('communication_messages', sa.Column(
        'search_vector', postgresql.TSVECTOR(),
        sa.Computed("to_tsvector('simple'::regconfig, coalesce(content, ''))", persisted=True), nullable=True))
    op.create_index('ix_messages_search', 'communication_messages', ['search_vector'], unique=False,
                    postgresql_using='gin')
    for statement in DROPS:
        op.execute(statement)
    for table in ('message_search_terms', 'contact_search_terms'):
        for statement in rls.drop_tenant_table_ddl(table):
            op.execute(statement)
    op.drop_index('ix_message_search_terms_thread', table_name='message_search_terms')
    op.drop_table('message_search_terms')
    op.drop_index('ix_contact_search_terms_contact', table_name='contact_search_terms')
    op.drop_table('contact_search_terms')
