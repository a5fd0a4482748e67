"""Living documentation of message templates: features/templates.feature.

The `TemplateDesk` drives the templates and outbound use cases over the `inbox` driver's teams and users, with an
in-memory provider gateway (what WhatsApp was asked to do) and a clock the scenario sets. WhatsApp's verdicts go
through ingestion as the parsed webhook events; the signed webhooks themselves are covered end to end in
tests/e2e/test_templates_with_simulator.py.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import attrs
import parse
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from commsinbox.adapters.clock import FixedClock
from commsinbox.adapters.memory.providers import MemoryProviderRegistry
from commsinbox.domain.model import events
from commsinbox.domain.model.channels import MessageType, Provider
from commsinbox.domain.model.errors import InvalidInput, PolicyBlocked
from commsinbox.domain.model.inbound import ContactRef, InboundMessage, TemplateStatusChanged
from commsinbox.domain.model.paging import PageRequest
from commsinbox.domain.usecases.access import Actor
from commsinbox.domain.usecases.connections import Connect
from commsinbox.domain.usecases.outbound import SendRequest
from commsinbox.domain.usecases.outbound_content import TemplateUse
from commsinbox.domain.usecases.templates import TemplateDraft
from tests.bdd.conftest import TYPES, Inbox, Run
from tests.support.sending import dispatch, outbound_at

scenarios("templates.feature")

STATUSES = ("draft", "pending", "approved", "rejected", "paused", "disabled")
VERDICTS = {"approved": ["APPROVED"], "rejected": ["REJECTED"], "paused": ["APPROVED", "PAUSED"],
            "disabled": ["APPROVED", "DISABLED"], "pending": []}
CREDENTIALS = {Provider.WHATSAPP_META: {"accessToken": "EAAG-test"},
               Provider.WHATSAPP_TWILIO: {"accountSid": "AC" + "0" * 32, "authToken": "twilio-secret"},
               Provider.INSTAGRAM_META: {"accessToken": "IGQ-test"}}
ACCOUNTS = {"a WhatsApp Cloud account": Provider.WHATSAPP_META, "a Twilio account": Provider.WHATSAPP_TWILIO,
            "an Instagram account": Provider.INSTAGRAM_META}


def step(text: str) -> parsers.parse:
    return parsers.parse(text, extra_types={
        **TYPES, "Text": parse.with_pattern(r'[^"]*')(lambda text: text),
        "Status": parse.with_pattern("|".join(STATUSES))(lambda text: text),
        "Event": parse.with_pattern(r"[A-Z_]+(?: for [A-Z_]+)?")(lambda text: text),
        "Account": parse.with_pattern("|".join(ACCOUNTS))(lambda text: ACCOUNTS[text])})


class TemplateDesk:
    """The team's accounts and customers, WhatsApp's gateway in memory, and the templates by name."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox, self.services = inbox, inbox.services
        noon = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
        self.clock = FixedClock(noon)  # outside the default quiet hours (21:00-08:00), so nothing waits
        self.registry = MemoryProviderRegistry()
        self.templates = attrs.evolve(self.services.templates, providers=self.registry, clock=self.clock)
        self.outbound = outbound_at(self.services, self.clock, self.registry)
        self.accounts: dict[Provider, tuple[str, str]] = {}  # provider → (account id, external id)
        self.ids: dict[str, str] = {}  # template name → id
        self.threads: dict[str, str] = {}  # customer → thread id
        self.team = ""
        self.waba_id = str(uuid.uuid4().int % 10**15)  # each scenario its own (the PostgreSQL session is shared)

    async def actor(self, user: str) -> Actor:
        return await self.services.access.resolve(self.inbox.user_ids[user], self.inbox.team_ids[self.team])

    async def connect(self, team: str, provider: Provider) -> None:
        self.team = team
        digits = str(uuid.uuid4().int % 10**10).zfill(10)
        external = "+1" + digits if provider is Provider.WHATSAPP_TWILIO else digits
        credentials = {**CREDENTIALS[provider], **({"wabaId": self.waba_id}
                                                   if provider is Provider.WHATSAPP_META else {})}
        connections = attrs.evolve(self.services.connections, providers=self.registry)
        account = await connections.connect(await self.actor(self.inbox.founders[team]), Connect(
            provider.value, team, external, credentials))
        self.accounts[provider] = (account.id, account.external_id)

    async def customer_wrote(self, customer: str, ago: dt.timedelta) -> None:
        _, external = self.accounts[Provider.WHATSAPP_META]
        phone = f"+55119{uuid.uuid4().int % 10**8:08d}"
        await self.services.ingest.ingest([InboundMessage(
            Provider.WHATSAPP_META, external, f"wamid.{uuid.uuid4().hex}", ContactRef(phone[1:], phone, customer),
            MessageType.TEXT, self.clock.now() - ago, text="Is my order coming?")])
        async with self.services.uows.for_team(self.inbox.team_ids[self.team]) as uow:
            entries = await uow.outbox.since(None, 1000)
        self.threads[customer] = next(str(e.payload["threadId"]) for e in reversed(entries)
                                      if e.kind == events.THREAD_OPENED)

    async def attempt(self, user: str, call: Any) -> None:
        await self.inbox.attempt_call(await self.actor(user), call)

    async def write(self, user: str, provider: Provider, name: str, language: str, body: str,
                    content_sid: str | None = None) -> None:
        account_id = self.accounts[provider][0]

        async def create(actor: Actor) -> Any:
            template = await self.templates.create(actor, TemplateDraft(account_id, name, language, body,
                                                                        provider_template_id=content_sid))
            self.ids[name] = template.id
            return await self.templates.submit(actor, template.id) if content_sid else template

        await self.attempt(user, create)

    async def submitted(self, user: str, name: str, body: str) -> None:
        await self.write(user, Provider.WHATSAPP_META, name, "en_US", body)
        assert self.inbox.error is None, self.inbox.error
        await self.templates.submit(await self.actor(user), self.ids[name])

    async def verdict(self, name: str, event: str) -> None:
        status, _, reason = event.partition(" for ")
        template = await self.templates.get(await self.actor(self.inbox.founders[self.team]), self.ids[name])
        await self.services.ingest.ingest([TemplateStatusChanged(
            Provider.WHATSAPP_META, self.waba_id, str(template.provider_template_id),
            name, template.language, status, self.clock.now(), reason=reason or None)])

    async def template(self, name: str) -> Any:
        return await self.templates.get(await self.actor(self.inbox.founders[self.team]), self.ids[name])

    async def send(self, user: str, customer: str, text: str | None = None, template: TemplateUse | None = None
                   ) -> None:
        async def call(actor: Actor) -> Any:
            queued = await self.outbound.send(actor, SendRequest(self.threads[customer], uuid.uuid4().hex, text,
                                                                 template))
            await dispatch(self.services, self.outbound, queued.message)
            return queued

        await self.attempt(user, call)

    async def thread_texts(self, customer: str) -> list[str | None]:
        page = await self.outbound.list(await self.actor(self.inbox.founders[self.team]), self.threads[customer],
                                        PageRequest())
        return [view.message.content for view in page.items]

    async def template_events(self, name: str) -> list[tuple[str, str | None]]:
        async with self.services.uows.for_team(self.inbox.team_ids[self.team]) as uow:
            entries = await uow.outbox.since(None, 1000)
        return [(e.payload["status"], e.payload["reason"]) for e in entries
                if e.kind == events.TEMPLATE_STATUS_CHANGED and e.payload["templateId"] == self.ids[name]]


@pytest.fixture
def desk(inbox: Inbox) -> TemplateDesk:
    return TemplateDesk(inbox)


def _status(text: str) -> tuple[str, str | None]:
    status, _, reason = text.partition(", because of ")
    return status, reason or None


## Given

@given(step('"{team:Name}" has {provider:Account}'))
def _account(run: Run[None], desk: TemplateDesk, team: str, provider: Provider) -> None:
    run(desk.connect(team, provider))


@given(step('"{customer:Name}" last wrote to "{team:Name}" {days:d} days ago'))
def _wrote(run: Run[None], desk: TemplateDesk, customer: str, team: str, days: int) -> None:
    run(desk.customer_wrote(customer, dt.timedelta(days=days)))


@given(step('"{user:Name}" submitted the template "{name:Name}": "{body:Text}"'))
def _submitted(run: Run[None], desk: TemplateDesk, user: str, name: str, body: str) -> None:
    run(desk.submitted(user, name, body))


@given(step('the template "{name:Name}" is {status:Status}: "{body:Text}"'))
def _template_is(run: Run[None], desk: TemplateDesk, name: str, status: str, body: str) -> None:
    run(desk.submitted(desk.inbox.founders[desk.team], name, body))
    for event in VERDICTS[status]:
        run(desk.verdict(name, event))


## When

@when(step('"{user:Name}" writes the template "{name:Name}" in "{language:Name}": "{body:Text}"'))
def _write(run: Run[None], desk: TemplateDesk, user: str, name: str, language: str, body: str) -> None:
    run(desk.write(user, Provider.WHATSAPP_META, name, language, body))


@when(step('"{user:Name}" writes the Instagram template "{name:Name}" in "{language:Name}": "{body:Text}"'))
def _write_instagram(run: Run[None], desk: TemplateDesk, user: str, name: str, language: str, body: str) -> None:
    run(desk.write(user, Provider.INSTAGRAM_META, name, language, body))


@when(step('"{user:Name}" registers the Twilio template "{sid:Name}": "{body:Text}"'))
def _register(run: Run[None], desk: TemplateDesk, user: str, sid: str, body: str) -> None:
    run(desk.write(user, Provider.WHATSAPP_TWILIO, "appointment", "en", body, content_sid=sid))


@when(step('WhatsApp reports the template "{name:Name}" {event:Event}'))
def _reports(run: Run[None], desk: TemplateDesk, name: str, event: str) -> None:
    run(desk.verdict(name, event))


@when(step('"{user:Name}" sends "{text:Text}" to "{customer:Name}"'))
def _send_text(run: Run[None], desk: TemplateDesk, user: str, text: str, customer: str) -> None:
    run(desk.send(user, customer, text=text))


@when(step('"{user:Name}" sends the template "{name:Name}" to "{customer:Name}" with {values:Names}'))
def _send_template(run: Run[None], desk: TemplateDesk, user: str, name: str, customer: str,
                   values: list[str]) -> None:
    run(desk.send(user, customer, template=TemplateUse(desk.ids[name], tuple(values))))


@when(step('"{user:Name}" sends a template that does not exist to "{customer:Name}"'))
def _send_unknown(run: Run[None], desk: TemplateDesk, user: str, customer: str) -> None:
    run(desk.send(user, customer, template=TemplateUse(str(uuid.uuid4()), ("x",))))


## Then

@then(step('it is blocked because "{reason:Name}"'))
def _blocked(desk: TemplateDesk, reason: str) -> None:
    assert isinstance(desk.inbox.error, PolicyBlocked), desk.inbox.error
    assert desk.inbox.error.reason == reason


@then(step('it is invalid, naming "{field:Name}"'))
def _invalid(desk: TemplateDesk, field: str) -> None:
    assert isinstance(desk.inbox.error, InvalidInput), desk.inbox.error
    assert [f.path for f in desk.inbox.error.fields] == [field]


@given(step('the template "{name:Name}" is {status:Status}'))
@then(step('the template "{name:Name}" is {status:Status}'))
def _is(run: Run[Any], desk: TemplateDesk, name: str, status: str) -> None:
    template = run(desk.template(name))
    assert (template.status.value, template.rejection_reason) == (status, None)


@then(step('the template "{name:Name}" is rejected, because of {reason:Name}'))
def _is_rejected(run: Run[Any], desk: TemplateDesk, name: str, reason: str) -> None:
    template = run(desk.template(name))
    assert (template.status.value, template.rejection_reason) == ("rejected", reason)


@then(step('the template "{name:Name}" is {status:Status}, with {count:d} blanks'))
def _is_with_blanks(run: Run[Any], desk: TemplateDesk, name: str, status: str, count: int) -> None:
    template = run(desk.template(name))
    assert (template.status.value, template.variable_count) == (status, count)


@then(step('the team\'s events show the template "{name:Name}" {history:Text}'))
def _events(run: Run[Any], desk: TemplateDesk, name: str, history: str) -> None:
    assert run(desk.template_events(name)) == [_status(part) for part in history.split(", then ")]


@then(step('nothing was sent to "{customer:Name}"'))
def _nothing_sent(run: Run[Any], desk: TemplateDesk, customer: str) -> None:
    assert desk.registry.gateway(Provider.WHATSAPP_META).sent == []
    assert run(desk.thread_texts(customer)) == ["Is my order coming?"]


@then(step('the thread of "{customer:Name}" ends with "{text:Text}"'))
def _thread_ends(run: Run[Any], desk: TemplateDesk, customer: str, text: str) -> None:
    assert run(desk.thread_texts(customer))[0] == text  # newest first


@then(step('WhatsApp was asked to send the template "{name:Name}" in "{language:Name}" with {values:Names}'))
def _asked(desk: TemplateDesk, name: str, language: str, values: list[str]) -> None:
    [sent] = desk.registry.gateway(Provider.WHATSAPP_META).sent
    assert sent.message.template is not None and re.fullmatch(r"\d+", sent.message.to)
    assert (sent.message.template.name, sent.message.template.language, sent.message.template.variables) == (
        name, language, tuple(values))
