from __future__ import annotations

import datetime as dt

import pytest

from commsinbox.domain.model.channels import Channel
from commsinbox.domain.model.consent import (
    DEFAULT_CONSENT_KEYWORDS,
    ConsentKeywords,
    ConsentRecord,
    ConsentStatus,
    Purpose,
    keyword_change,
    keyword_consent,
    latest_consent,
)
from commsinbox.domain.model.errors import InvalidInput
from commsinbox.domain.policies.consent import consent_decision
from commsinbox.domain.policies.decision import CONSENT_MISSING, OPTED_OUT, Allowed, Blocked

pytestmark = pytest.mark.unit

AT = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
OUT, IN = ConsentStatus.OPTED_OUT, ConsentStatus.OPTED_IN


def record(status: ConsentStatus, at: dt.datetime = AT, contact: str = "c1",
           channel: Channel = Channel.WHATSAPP) -> ConsentRecord:
    return ConsentRecord(contact, channel, status, "test", at)


# -- keywords ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("STOP", OUT), ("stop", OUT), ("Stop!", OUT), ("  stop ", OUT), ("stop.", OUT), ("\tUnsubscribe\n", OUT),
    ("STOPALL", OUT), ("quit", OUT), ("start", IN), ("Yes", IN), ("unstop", IN), ("subscribe!!", IN),
    ("baja", OUT), ("¡Baja!", OUT), ("alto", OUT), ("Alta", IN), ("iniciar", IN), ("suscribir", IN),
    ("sair", OUT), ("Descadastrar", OUT), ("voltar", IN), ("assinar", IN), ("parar", OUT),
    ("CANCELÁR", OUT), ("cancelar…", OUT), ("Sáir", OUT),
])
def test_default_keywords_in_three_languages(text: str, expected: ConsentStatus) -> None:
    assert keyword_consent(text, DEFAULT_CONSENT_KEYWORDS) is expected


@pytest.mark.parametrize("text", [
    "please stop calling", "stop it", "stop stop", "stopp", "pare", "no", "", "   ", "!!!", "st op", "s t o p",
    "yes please", "quero sair", "dar de baja",
])
def test_only_a_whole_message_that_is_one_keyword_matches(text: str) -> None:
    assert keyword_consent(text, DEFAULT_CONSENT_KEYWORDS) is None


def test_a_team_may_add_a_word_then_it_matches() -> None:
    keywords = ConsentKeywords.parse({"pt": {"optOut": ["pare", "sair"], "optIn": ["voltar"]}})
    assert keyword_consent("Pare!", keywords) is OUT
    assert keyword_consent("stop", keywords) is None  # only the configured languages count


def test_parse_normalises_and_round_trips() -> None:
    keywords = ConsentKeywords.parse({"pt-br": {"optOut": [" Sáir ", "SAIR", "parar"], "optIn": []}})
    assert keywords.to_mapping() == {"pt_BR": {"optOut": ["PARAR", "SAIR"], "optIn": []}}
    assert ConsentKeywords.parse(keywords.to_mapping()) == keywords
    assert keywords["pt_BR"] == (frozenset({"SAIR", "PARAR"}), frozenset())
    with pytest.raises(KeyError):
        keywords["en"]


def test_defaults_cover_the_listed_words() -> None:
    assert DEFAULT_CONSENT_KEYWORDS["en"] == (
        frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}),
        frozenset({"START", "UNSTOP", "SUBSCRIBE", "YES"}))
    assert DEFAULT_CONSENT_KEYWORDS["es"] == (frozenset({"BAJA", "ALTO", "PARAR", "CANCELAR"}),
                                              frozenset({"ALTA", "INICIAR", "SUSCRIBIR"}))
    assert DEFAULT_CONSENT_KEYWORDS["pt"] == (frozenset({"SAIR", "PARAR", "CANCELAR", "DESCADASTRAR"}),
                                              frozenset({"VOLTAR", "INICIAR", "ASSINAR"}))
    assert ConsentKeywords.default() == DEFAULT_CONSENT_KEYWORDS


@pytest.mark.parametrize("mapping, path", [
    ({}, "consentKeywords"),
    ([("en", {})], "consentKeywords"),
    ({"english": {"optOut": ["STOP"]}}, "consentKeywords.english"),
    ({"en": ["STOP"]}, "consentKeywords.en"),
    ({"en": {"optOut": ["STOP"], "help": ["HELP"]}}, "consentKeywords.en"),
    ({"en": {"optOut": []}}, "consentKeywords.en.optOut"),
    ({"en": {"optIn": ["START"]}}, "consentKeywords.en.optOut"),
    ({"en": {"optOut": "STOP"}}, "consentKeywords.en.optOut"),
    ({"en": {"optOut": ["STOP", "!!"]}}, "consentKeywords.en.optOut[1]"),
    ({"en": {"optOut": ["STOP", "x" * 31]}}, "consentKeywords.en.optOut[1]"),
    ({"en": {"optOut": ["STOP", "st-op"]}}, "consentKeywords.en.optOut[1]"),
    ({"en": {"optOut": ["STOP", 3]}}, "consentKeywords.en.optOut[1]"),
    ({"en": {"optOut": ["STOP"], "optIn": ["START", "stop"]}}, "consentKeywords.en.optIn[1]"),
    ({"en": {"optOut": ["STOP"]}, "es": {"optOut": ["BAJA"], "optIn": ["Stop"]}}, "consentKeywords.es.optIn[0]"),
    ({"en": {"optOut": ["STOP"]}, "EN": {"optOut": ["QUIT"]}}, "consentKeywords.EN"),
])
def test_parse_refuses_bad_configuration_naming_the_path(mapping: object, path: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        ConsentKeywords.parse(mapping)  # type: ignore[arg-type]
    assert [f.path for f in bad.value.fields] == [path]


def test_the_same_word_may_opt_out_in_two_languages() -> None:
    keywords = ConsentKeywords.parse({"es": {"optOut": ["PARAR"]}, "pt": {"optOut": ["parar"]}})
    assert keyword_consent("parar", keywords) is OUT


@pytest.mark.parametrize("text, latest, expected", [
    ("STOP", None, OUT),
    ("STOP", IN, OUT),
    ("STOP", OUT, None),  # already opted out: nothing new to record
    ("START", OUT, IN),  # START undoes a STOP
    ("yes", OUT, IN),
    ("yes", None, None),  # "yes" to a question is no consent to marketing
    ("START", IN, None),
    ("hello", OUT, None),
])
def test_keyword_change_records_opt_out_and_only_undoes_opt_out(
        text: str, latest: ConsentStatus | None, expected: ConsentStatus | None) -> None:
    previous = record(latest) if latest else None
    assert keyword_change(text, DEFAULT_CONSENT_KEYWORDS, previous) is expected


def test_latest_consent_is_the_latest_for_that_contact_and_channel() -> None:
    early, late = record(IN, AT), record(OUT, AT + dt.timedelta(seconds=1))
    other_contact = record(IN, AT + dt.timedelta(days=1), contact="c2")
    other_channel = record(IN, AT + dt.timedelta(days=1), channel=Channel.INSTAGRAM)
    records = [late, other_contact, early, other_channel]
    assert latest_consent(records, "c1", Channel.WHATSAPP) is late
    assert latest_consent(records, "c1", Channel.INSTAGRAM) is other_channel
    assert latest_consent(records, "c3", Channel.WHATSAPP) is None
    tie = record(IN, late.at)
    assert latest_consent([late, tie], "c1", Channel.WHATSAPP) is tie


# -- the rule ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", list(Purpose))
@pytest.mark.parametrize("contact_wrote", [True, False])
def test_opted_out_blocks_every_purpose(purpose: Purpose, contact_wrote: bool) -> None:
    assert consent_decision(purpose, record(OUT), contact_wrote) == Blocked(OPTED_OUT)


@pytest.mark.parametrize("purpose, latest, contact_wrote, expected", [
    (Purpose.MARKETING, IN, False, Allowed()),
    (Purpose.MARKETING, None, True, Blocked(CONSENT_MISSING)),  # writing to us is no opt-in to campaigns
    (Purpose.MARKETING, None, False, Blocked(CONSENT_MISSING)),
    (Purpose.REPLY, None, True, Allowed()),
    (Purpose.REPLY, IN, False, Allowed()),
    (Purpose.REPLY, None, False, Blocked(CONSENT_MISSING)),
    (Purpose.UTILITY, None, True, Allowed()),
    (Purpose.UTILITY, IN, False, Allowed()),
    (Purpose.UTILITY, None, False, Blocked(CONSENT_MISSING)),
])
def test_consent_by_purpose(purpose: Purpose, latest: ConsentStatus | None, contact_wrote: bool,
                            expected: object) -> None:
    assert consent_decision(purpose, record(latest) if latest else None, contact_wrote) == expected
