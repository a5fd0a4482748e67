"""Consent: the opt-in / opt-out ledger per contact and channel, and the keywords that change it.

A `ConsentRecord` is one entry of the ledger; the latest one for a contact on a channel is what counts.
Keywords follow Twilio's STOP filtering: only a message that is nothing but the keyword changes consent
("stop" does, "please stop calling" does not).
"""
from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import attrs

from .channels import Channel
from .errors import InvalidInput
from .languages import language_code


class ConsentStatus(enum.StrEnum):
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"


class Purpose(enum.StrEnum):
    """Why a message is sent; the consent and quiet-hours rules depend on it."""

    REPLY = "reply"  # an agent or an automation answering a conversation
    MARKETING = "marketing"  # campaigns
    UTILITY = "utility"  # transactional notifications (order shipped, appointment reminder)


@attrs.frozen
class ConsentRecord:
    """One entry of the ledger. `source` says how it came about, e.g. `keyword:STOP`, `api`, `import`, `form`."""

    contact_id: str
    channel: Channel
    status: ConsentStatus
    source: str
    at: dt.datetime


def latest_consent(records: Iterable[ConsentRecord], contact_id: str, channel: Channel) -> ConsentRecord | None:
    """The record that counts for `contact_id` on `channel`: the one with the latest `at` (on a tie, the later
    one in `records`, so a ledger read in insertion order resolves ties by insertion)."""
    latest: ConsentRecord | None = None
    for record in records:
        if record.contact_id == contact_id and record.channel is channel and (latest is None or record.at >= latest.at):
            latest = record
    return latest


# -- keywords ---------------------------------------------------------------------------------------------

MAX_KEYWORD_LENGTH = 30
_SPACES = re.compile(r"\s+")


def _trim(text: str) -> str:
    """`text` without whitespace and punctuation (any Unicode P* category: `!`, `.`, `¡`, `…`) at either end."""
    def edge(c: str) -> bool:
        return c.isspace() or unicodedata.category(c).startswith("P")

    start, end = 0, len(text)
    while start < end and edge(text[start]):
        start += 1
    while end > start and edge(text[end - 1]):
        end -= 1
    return text[start:end]


def normalise_keyword(text: str) -> str:
    """The comparable form of a message or a keyword: trimmed, punctuation at either end dropped (so "¡Baja!",
    "Stop!" and "stop." match), inner whitespace collapsed, accents removed, case folded, then upper case."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", _trim(bare)).casefold().upper()


@attrs.frozen
class LanguageKeywords:
    """The opt-out and opt-in words of one language, stored normalised (upper case, no accents)."""

    language: str
    opt_out: frozenset[str]
    opt_in: frozenset[str]


_DEFAULTS = {
    "en": (("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), ("START", "UNSTOP", "SUBSCRIBE", "YES")),
    "es": (("BAJA", "ALTO", "PARAR", "CANCELAR"), ("ALTA", "INICIAR", "SUSCRIBIR")),
    "pt": (("SAIR", "PARAR", "CANCELAR", "DESCADASTRAR"), ("VOLTAR", "INICIAR", "ASSINAR")),
}


@attrs.frozen
class ConsentKeywords:
    """Language → (opt-out words, opt-in words). An inbound message is matched against every language, so a word
    may not opt out in one language and opt in in another (`parse` refuses that)."""

    languages: tuple[LanguageKeywords, ...]

    @classmethod
    def default(cls) -> ConsentKeywords:
        return cls.parse({lang: {"optOut": out, "optIn": in_} for lang, (out, in_) in _DEFAULTS.items()})

    @classmethod
    def parse(cls, mapping: Mapping[str, object], path: str = "consentKeywords") -> ConsentKeywords:
        """A team's configuration: `{"en": {"optOut": ["STOP", ...], "optIn": ["START", ...]}, "es": {...}}`
        (the shape `to_mapping` returns). Each language needs at least one opt-out word; opt-in may be empty.
        Raises `InvalidInput` naming the offending path, e.g. `consentKeywords.es.optOut[2]`."""
        if not isinstance(mapping, Mapping) or not mapping:
            raise InvalidInput.single(path, "must map language codes to {optOut: [...], optIn: [...]}")
        languages: dict[str, LanguageKeywords] = {}
        direction: dict[str, tuple[str, str]] = {}  # word -> (kind, where it was first seen)
        for raw_language, entry in mapping.items():
            here = f"{path}.{raw_language}"
            language = language_code(raw_language, here) if isinstance(raw_language, str) else ""
            if not language:
                raise InvalidInput.single(here, "must be a language code such as en or pt_BR")
            if language in languages:
                raise InvalidInput.single(here, f"repeats language {language}")
            if not isinstance(entry, Mapping) or set(entry) - {"optOut", "optIn"}:
                raise InvalidInput.single(here, "must be {optOut: [...], optIn: [...]}")
            opt_out = _words(entry.get("optOut"), f"{here}.optOut", required=True)
            opt_in = _words(entry.get("optIn", ()), f"{here}.optIn", required=False)
            for kind, words in (("optOut", opt_out), ("optIn", opt_in)):
                for index, word in enumerate(words):
                    seen = direction.setdefault(word, (kind, f"{here}.{kind}"))
                    if seen[0] != kind:
                        raise InvalidInput.single(f"{here}.{kind}[{index}]",
                                                  f"{word} is already a keyword of {seen[1]}")
            languages[language] = LanguageKeywords(language, frozenset(opt_out), frozenset(opt_in))
        return cls(tuple(languages[lang] for lang in sorted(languages)))

    def __getitem__(self, language: str) -> tuple[frozenset[str], frozenset[str]]:
        for entry in self.languages:
            if entry.language == language:
                return entry.opt_out, entry.opt_in
        raise KeyError(language)

    def to_mapping(self) -> dict[str, dict[str, list[str]]]:
        return {e.language: {"optOut": sorted(e.opt_out), "optIn": sorted(e.opt_in)} for e in self.languages}

    @property
    def opt_out_words(self) -> frozenset[str]:
        return frozenset().union(*(e.opt_out for e in self.languages))

    @property
    def opt_in_words(self) -> frozenset[str]:
        return frozenset().union(*(e.opt_in for e in self.languages))


def _words(value: object, path: str, *, required: bool) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence | frozenset | set):
        raise InvalidInput.single(path, "must be a list of words")
    words: list[str] = []
    for index, word in enumerate(value):
        normal = normalise_keyword(word) if isinstance(word, str) else ""
        if not normal or len(normal) > MAX_KEYWORD_LENGTH or not all(c.isalnum() or c == " " for c in normal):
            raise InvalidInput.single(f"{path}[{index}]",
                                      f"must be 1 to {MAX_KEYWORD_LENGTH} letters or digits, e.g. STOP")
        if normal not in words:
            words.append(normal)
    if required and not words:
        raise InvalidInput.single(path, "must name at least one word")
    return words


def keyword_consent(text: str, keywords: ConsentKeywords) -> ConsentStatus | None:
    """OPTED_OUT / OPTED_IN when the whole message is one keyword of any language, else None.

    The comparison is on `normalise_keyword` forms: "  stop ", "Stop!" and "CANCELÁR" match; "please stop"
    and "stop it" do not."""
    normal = normalise_keyword(text)
    if not normal:
        return None
    for entry in keywords.languages:
        if normal in entry.opt_out:
            return ConsentStatus.OPTED_OUT
    for entry in keywords.languages:
        if normal in entry.opt_in:
            return ConsentStatus.OPTED_IN
    return None


DEFAULT_CONSENT_KEYWORDS = ConsentKeywords.default()
KEYWORDS_SETTING = "consentKeywords"  # the team setting holding its overrides (team_settings)


def keyword_overrides(mapping: Mapping[str, object], path: str = KEYWORDS_SETTING) -> dict[str, dict[str, list[str]]]:
    """A team's keyword setting, validated against the defaults it is merged with, in its stored form. Each
    language it names replaces that language's defaults; the other default languages stay. `{}` resets to the
    defaults. Raises `InvalidInput` naming the path, e.g. `consentKeywords.es.optIn[0]`."""
    if isinstance(mapping, Mapping) and not mapping:
        return {}
    own = ConsentKeywords.parse(mapping, path)
    named = {entry.language for entry in own.languages}
    defaults = {k: v for k, v in DEFAULT_CONSENT_KEYWORDS.to_mapping().items() if k not in named}
    ConsentKeywords.parse({**defaults, **mapping}, path)  # a word may not opt out in one language, in in another
    return own.to_mapping()


def team_keywords(overrides: Mapping[str, object] | None) -> ConsentKeywords:
    """The keywords in force for a team: the defaults, with the languages its setting names replaced."""
    if not overrides:
        return DEFAULT_CONSENT_KEYWORDS
    named = {language_code(k) for k in overrides}
    defaults = {k: v for k, v in DEFAULT_CONSENT_KEYWORDS.to_mapping().items() if k not in named}
    return ConsentKeywords.parse({**defaults, **overrides})


def keyword_change(text: str, keywords: ConsentKeywords, latest: ConsentRecord | None) -> ConsentStatus | None:
    """The ledger entry an inbound message calls for, or None.

    An opt-out keyword records OPTED_OUT unless the contact is already opted out. An opt-in keyword only undoes
    an opt-out (as Twilio's START/UNSTOP/YES do): words like YES are everyday answers ("Is 3 pm fine?" "Yes"), so
    they are not taken as a first consent to marketing; that comes from an explicit source (a form, the API)."""
    status = keyword_consent(text, keywords)
    current = latest.status if latest else None
    if status is ConsentStatus.OPTED_OUT and current is not ConsentStatus.OPTED_OUT:
        return status
    if status is ConsentStatus.OPTED_IN and current is ConsentStatus.OPTED_OUT:
        return status
    return None
