"""Inbox search under RLS: conditions on the search-term tables that their btree indexes answer.

Row-level security lets PostgreSQL run a condition before the team policy only when its operator is leakproof;
uuid and text equality and ranges are, full-text `@@` is not. So the matching threads come from btree ranges on
`contact_search_terms` and `message_search_terms` (kept by the triggers of migration 0009), and the rule is the
one in domain/model/search.py."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...domain.model import search
from .schema import communication_threads, contact_search_terms, message_search_terms

_LAST = "\U0010ffff"  # the highest code point: with the terms' "C" collation, p <= term < p + _LAST holds p's words


def _prefixed(term: sa.Column[str], prefix: str) -> list[sa.ColumnElement[bool]]:
    """`term` starts with `prefix`, as an index range (starts_with also admits a term holding U+10FFFF itself)."""
    return [term >= prefix, term < prefix + _LAST, sa.func.starts_with(term, prefix)]


def matching_threads(team_id: str, query: str) -> sa.ColumnElement[bool]:
    """The thread is one of those `query` finds: by the contact's name or phone, or by one message's words."""
    t = communication_threads
    wanted = search.words(query)
    found: list[Any] = []
    contacts = _contacts(team_id, wanted, search.query_digits(query))
    if contacts is not None:
        by_contact = t.alias("by_contact")
        found.append(sa.select(by_contact.c.id).where(by_contact.c.team_id == team_id,
                                                      by_contact.c.contact_id.in_(contacts)))
    if wanted:
        found.append(_messages(team_id, wanted))
    if not found:
        return sa.false()
    return t.c.id.in_(found[0] if len(found) == 1 else sa.union_all(*found))


def _contacts(team_id: str, wanted: list[str], digits: str | None) -> Any:
    """Contacts whose name has a word beginning with each query word, or whose phone holds the digits."""
    ct = contact_search_terms
    sets: list[Any] = []
    if wanted:
        per_word = [sa.select(ct.c.contact_id).where(ct.c.team_id == team_id, ct.c.field == "name",
                                                     *_prefixed(ct.c.term, w)) for w in wanted]
        sets.append(per_word[0] if len(per_word) == 1 else sa.intersect(*per_word))
    if digits is not None:  # the terms hold every 4+ digit suffix: digits anywhere begin one of them
        sets.append(sa.select(ct.c.contact_id).where(ct.c.team_id == team_id, ct.c.field == "phone",
                                                     *_prefixed(ct.c.term, digits)))
    if not sets:
        return None
    return sets[0] if len(sets) == 1 else sa.union(*sets)


def _messages(team_id: str, wanted: list[str]) -> sa.Select[Any]:
    """Threads with a message holding every word: one index lookup per further word, on the same message."""
    first, *rest = [message_search_terms.alias(f"word{i}") for i in range(len(wanted))]
    source: Any = first
    for alias, word in zip(rest, wanted[1:]):
        source = source.join(alias, sa.and_(alias.c.team_id == team_id, alias.c.term == word,
                                            alias.c.thread_id == first.c.thread_id,
                                            alias.c.message_id == first.c.message_id))
    return sa.select(first.c.thread_id).select_from(source).where(first.c.team_id == team_id,
                                                                  first.c.term == wanted[0])
