"""Living documentation of inbound Instagram direct messages: features/inbound_instagram.feature."""
from __future__ import annotations

from typing import Any

from pytest_bdd import given, scenarios, then, when

from commsinbox.domain.model.channels import Provider
from tests.bdd.conftest import Run
from tests.bdd.webhooks_driver import InboundDriver, step

scenarios("inbound_instagram.feature")
INSTAGRAM = Provider.INSTAGRAM_META


## Given

@given(step('"{name:Text}" sent "{text:Text}" on Instagram'))
def _sent(run: Run[None], inbound: InboundDriver, name: str, text: str) -> None:
    run(inbound.customer_sends(INSTAGRAM, name, text))


@given(step('the business replied "{text:Text}" to "{name:Text}" from the Instagram app'))
def _replied(run: Run[None], inbound: InboundDriver, text: str, name: str) -> None:
    run(inbound.business_echo(INSTAGRAM, name, text))


## When

@when(step('"{name:Text}" sends "{text:Text}" on Instagram'))
def _sends(run: Run[None], inbound: InboundDriver, name: str, text: str) -> None:
    run(inbound.customer_sends(INSTAGRAM, name, text))


@when(step('the business replies "{text:Text}" to "{name:Text}" from the Instagram app'))
def _replies(run: Run[None], inbound: InboundDriver, text: str, name: str) -> None:
    run(inbound.business_echo(INSTAGRAM, name, text))


@when(step('"{name:Text}" unsends "{label:Text}"'))
def _unsends(run: Run[None], inbound: InboundDriver, name: str, label: str) -> None:
    run(inbound.instagram_event(name, "docderived_message_is_deleted.json", label))


@when(step('"{name:Text}" replies "{text:Text}" to the story "{story:Text}"'))
def _story_reply(run: Run[None], inbound: InboundDriver, name: str, text: str, story: str) -> None:
    run(inbound.story_reply(name, text, story))


@when(step('"{name:Text}" reacts with "{emoji:Text}" to "{label:Text}"'))
def _reacts(run: Run[None], inbound: InboundDriver, name: str, emoji: str, label: str) -> None:
    run(inbound.instagram_event(name, "docderived_reaction_react.json", label, emoji=emoji))


@when(step('"{name:Text}" takes back the reaction to "{label:Text}"'))
def _unreacts(run: Run[None], inbound: InboundDriver, name: str, label: str) -> None:
    run(inbound.instagram_event(name, "docderived_reaction_unreact.json", label))


@when(step('"{name:Text}" sees "{label:Text}"'))
def _sees(run: Run[None], inbound: InboundDriver, name: str, label: str) -> None:
    run(inbound.report(INSTAGRAM, label, "read"))


## Then

@then(step('the contact of "{label:Text}" is known by the Instagram id of "{name:Text}"'))
def _known_by(run: Run[Any], inbound: InboundDriver, label: str, name: str) -> None:
    thread, contact = run(inbound.thread_of(label)), run(inbound.contact_of(label))
    assert (thread.external_contact_id, contact.phone) == (inbound.person(name).igsid, None)


@then(step('the message "{label:Text}" is marked deleted'))
def _deleted(run: Run[Any], inbound: InboundDriver, label: str) -> None:
    message = run(inbound.message(label))
    assert message is not None and message.deleted_at is not None


@then(step('the message "{label:Text}" keeps the story "{story:Text}"'))
def _keeps_story(run: Run[Any], inbound: InboundDriver, label: str, story: str) -> None:
    message = run(inbound.message(label))
    assert message is not None and message.meta["story_reply"]["id"] == story


@then(step('a reaction "{emoji:Text}" to "{label:Text}" is kept in its thread'))
def _reaction(run: Run[Any], inbound: InboundDriver, emoji: str, label: str) -> None:
    assert run(inbound.reactions(label)) == [emoji]


@then(step('a withdrawn reaction to "{label:Text}" is kept in its thread'))
def _withdrawn(run: Run[Any], inbound: InboundDriver, label: str) -> None:
    assert run(inbound.reactions(label)) == [None]
