"""What an inbox search matches (docs/inbox.md#search). The PostgreSQL adapter keeps the same terms in its
search tables (migration 0009 computes them with the same rule); the in-memory adapter calls these functions.

A thread matches a query when any of these holds:
- every word of the query begins a word of the contact's name ("carv" finds "Ana Carvalho");
- the query holds four or more digits and the contact's phone holds them, in that order and together, anywhere
  ("1234-0001" finds +55 11 91234-0001);
- one message of the thread holds every word of the query, in any order (whole words).

Words are the lower-cased runs of letters, digits and `_`; a word longer than MAX_WORD characters counts by its
first MAX_WORD."""
from __future__ import annotations

import re
from collections.abc import Iterable

MAX_WORD = 64
MIN_PHONE_DIGITS = 4
_WORD = re.compile(r"\w+")
_NOT_DIGIT = re.compile(r"[^0-9]")


def words(text: str | None) -> list[str]:
    """The distinct words of `text`, in order of appearance."""
    return list(dict.fromkeys(w[:MAX_WORD] for w in _WORD.findall((text or "").lower())))


def phone_digits(text: str | None) -> str:
    """The ASCII digits of `text`, together."""
    return _NOT_DIGIT.sub("", text or "")


def query_digits(query: str) -> str | None:
    """The digits a phone is searched for, or None when the query holds too few to search phones."""
    digits = phone_digits(query)
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def name_matches(query_words: list[str], name: str | None) -> bool:
    found = words(name)
    return bool(query_words) and all(any(w.startswith(q) for w in found) for q in query_words)


def phone_matches(digits: str | None, phone: str | None) -> bool:
    return digits is not None and digits in phone_digits(phone)


def message_matches(query_words: list[str], texts: Iterable[str | None]) -> bool:
    wanted = set(query_words)
    return bool(wanted) and any(wanted <= set(words(text)) for text in texts)
