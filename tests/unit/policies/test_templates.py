from __future__ import annotations

import datetime as dt

import attrs
import pytest

from commsinbox.domain.model.errors import InvalidInput
from commsinbox.domain.model.languages import language_code
from commsinbox.domain.model.templates import Template, TemplateCategory, TemplateStatus, variable_count
from commsinbox.domain.policies.decision import TEMPLATE_NOT_APPROVED, TEMPLATE_VARIABLES_MISMATCH, Allowed, Blocked
from commsinbox.domain.policies.templates import template_decision

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


def template(body: str = "Hi {{1}}, order {{2}} ships {{3}}.", *, status: TemplateStatus = TemplateStatus.APPROVED,
             name: str = "order_shipped", language: str = "pt_BR") -> Template:
    return Template.create("t1", "acc1", name, language, TemplateCategory.UTILITY, body, NOW, status=status,
                           provider_template_id="HX123")


# -- the model ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body, count", [
    ("Thanks!", 0), ("Hi {{1}}", 1), ("{{2}} then {{1}}", 2), ("{{1}} and {{1}} again, {{2}}", 2),
    ("{{1}}{{2}}{{3}}{{4}}{{5}}{{6}}{{7}}{{8}}{{9}}{{10}}", 10), ("a { b } {c}", 0),
])
def test_variable_count_comes_from_the_placeholders(body: str, count: int) -> None:
    assert variable_count(body) == count
    assert template(body).variable_count == count


@pytest.mark.parametrize("body", [
    "Hi {{2}}", "{{1}} {{3}}", "{{0}}", "{{01}}", "{{ 1 }}", "{{name}}", "{{1.5}}", "{{-1}}", "{{}}", "",
    "   ", "x" * 1025, "{{1\n}}",
])
def test_bad_bodies_are_refused_naming_body(body: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        template(body)
    assert [f.path for f in bad.value.fields] == ["body"]


def test_changing_the_body_keeps_the_count_derived_and_valid() -> None:
    tpl = template("Hi {{1}}")
    tpl.body = "Hi {{1}}, {{2}}"
    assert tpl.variable_count == 2
    with pytest.raises(InvalidInput):
        tpl.body = "Hi {{2}}"


@pytest.mark.parametrize("name", ["order_shipped", "a", "otp_2fa", "x" * 512])
def test_meta_template_names(name: str) -> None:
    assert template(name=name).name == name


@pytest.mark.parametrize("name", ["Order_Shipped", "order-shipped", "order shipped", "", "x" * 513, "pedido_nº1",
                                  "order\n"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        template(name=name)
    assert [f.path for f in bad.value.fields] == ["name"]


@pytest.mark.parametrize("code, canonical", [
    ("en", "en"), ("en_US", "en_US"), ("pt_BR", "pt_BR"), ("pt-br", "pt_BR"), ("EN_us", "en_US"), ("fil", "fil"),
    (" es_AR ", "es_AR"),
])
def test_language_codes_are_normalised(code: str, canonical: str) -> None:
    assert language_code(code) == canonical
    assert template(language=code).language == canonical


@pytest.mark.parametrize("code", ["english", "e", "en_USA", "en_", "pt_BR_x", "", "12", "en US"])
def test_bad_language_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        template(language=code)
    assert [f.path for f in bad.value.fields] == ["language"]


def test_the_constructor_wants_canonical_languages() -> None:
    with pytest.raises(InvalidInput):
        attrs.evolve(template(), language="pt-br")


# -- the rule ---------------------------------------------------------------------------------------------


def test_an_approved_template_with_every_variable_may_go() -> None:
    assert template_decision(template(), "acc1", "pt_BR", ["Ana", "#42", "today"]) == Allowed()
    assert template_decision(template("No variables"), "acc1", "pt_BR", []) == Allowed()


@pytest.mark.parametrize("status", [s for s in TemplateStatus if s is not TemplateStatus.APPROVED])
def test_only_approved_templates_may_go(status: TemplateStatus) -> None:
    decision = template_decision(template(status=status), "acc1", "pt_BR", ["Ana", "#42", "today"])
    assert decision == Blocked(TEMPLATE_NOT_APPROVED)


@pytest.mark.parametrize("account, language", [("acc2", "pt_BR"), ("acc1", "en"), ("acc1", "pt"),
                                               ("acc1", "pt_PT")])
def test_other_account_or_language_is_not_approved(account: str, language: str) -> None:
    decision = template_decision(template(), account, language, ["Ana", "#42", "today"])
    assert decision == Blocked(TEMPLATE_NOT_APPROVED)


@pytest.mark.parametrize("variables", [[], ["Ana", "#42"], ["Ana", "#42", "today", "extra"], ["Ana", "", "today"],
                                       ["Ana", "   ", "today"], ["Ana", None, "today"]])
def test_variables_must_match_in_number_and_be_filled(variables: list[str]) -> None:
    assert template_decision(template(), "acc1", "pt_BR", variables) == Blocked(TEMPLATE_VARIABLES_MISMATCH)


def test_not_approved_wins_over_a_variables_mismatch() -> None:
    decision = template_decision(template(status=TemplateStatus.PAUSED), "acc1", "pt_BR", [])
    assert decision == Blocked(TEMPLATE_NOT_APPROVED)


def test_one_string_is_not_a_list_of_variables() -> None:
    with pytest.raises(TypeError):
        template_decision(template("Hi {{1}}{{2}}{{3}}"), "acc1", "pt_BR", "abc")
