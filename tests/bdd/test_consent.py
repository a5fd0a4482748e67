"""Living documentation of consent and the audit log: features/consent.feature.

Customers write through real signed webhooks (the `inbound` driver); agents record consent and reply through
the use cases, at a clock just after the customer's last message (inside the 24-hour window and the reply
grace). The provider's refusal comes from the in-memory gateway the driver's services send through."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pytest_bdd import given, scenarios, then, when

from commsinbox.domain.model.channels import Provider
from commsinbox.domain.model.errors import PolicyBlocked
from commsinbox.domain.usecases.consent import ConsentState
from commsinbox.domain.usecases.outbound import OutboundService, Queued, SendRequest
from commsinbox.domain.usecases.teams import TeamChanges
from commsinbox.ports.providers import ProviderError
from tests.bdd.conftest import Run
from tests.bdd.webhooks_driver import InboundDriver, step
from tests.support.sending import dispatch, outbound_at

scenarios("consent.feature")


class Agent:
    """What an agent of the driver's team does about consent, and what came of the last send."""

    def __init__(self, inbound: InboundDriver) -> None:
        self.inbound = inbound
        self.sends = 0
        self.outcome: Queued | PolicyBlocked | None = None

    async def consent(self, name: str) -> ConsentState:
        thread = await self._thread(name)
        return await self.inbound.services.consent.get(self.inbound.member.actor, thread.contact_id,
                                                       thread.channel.value)

    async def record(self, name: str, status: str, source: str) -> None:
        thread = await self._thread(name)
        await self.inbound.services.consent.set(self.inbound.member.actor, thread.contact_id, thread.channel.value,
                                                status, source)

    async def reply(self, name: str, text: str, refused_with: str | None = None) -> None:
        """Sends as the team's owner a minute after the customer's last message; with `refused_with`, the
        provider refuses the send with that error code and the send job records it."""
        label, thread = self._last_label(name), await self._thread(name)
        sent = self.inbound.sent[label]
        now = dt.datetime.fromtimestamp(sent.at, tz=dt.UTC) + dt.timedelta(minutes=1)
        outbound: OutboundService = outbound_at(self.inbound.services, now)
        self.sends += 1
        try:
            self.outcome = await outbound.send(self.inbound.member.actor,
                                               SendRequest(thread.id, f"bdd-{self.sends}", text))
        except PolicyBlocked as blocked:
            self.outcome = blocked
            return
        if refused_with is not None:
            self.inbound.gateways.gateway(sent.provider).fail_next_sends(ProviderError(
                "the recipient has opted out", transient=False, code=refused_with, reason="opted_out"))
        await dispatch(self.inbound.services, outbound, self.outcome.message)

    async def audit(self) -> tuple[list[Any], bool]:
        """The team's audit entries, oldest first, and whether the chain verifies."""
        services, actor = self.inbound.services, self.inbound.member.actor
        page = await services.audit.list(actor, None, 200)
        return list(reversed(page.items)), (await services.audit.verify(actor)).ok

    def _last_label(self, name: str) -> str:
        return [label for label, sent in self.inbound.sent.items() if sent.person == name][-1]

    async def _thread(self, name: str) -> Any:
        return await self.inbound.thread_of(self._last_label(name))


@given(step('"{name:Text}" sends "{text:Text}" from {phone:Phone} through {provider:Provider}'))
def _customer_sent(run: Run[None], inbound: InboundDriver, name: str, text: str, phone: str,
                   provider: Provider) -> None:
    run(inbound.customer_sends(provider, name, text, phone))


@given(step('the team\'s Spanish opt-out words are "{words:Text}"'))
def _spanish_words(run: Run[Any], inbound: InboundDriver, words: str) -> None:
    run(inbound.services.teams.update(inbound.member.actor, TeamChanges(
        consent_keywords={"es": {"optOut": words.split(", ")}})))


@pytest.fixture
def agent(inbound: InboundDriver) -> Agent:
    return Agent(inbound)


@when(step('an agent records "{name:Text}" as {status:Text} from "{source:Text}"'))
def _record(run: Run[None], agent: Agent, name: str, status: str, source: str) -> None:
    run(agent.record(name, status, source))


@when(step('an agent replies "{text:Text}" to "{name:Text}"'))
def _reply(run: Run[None], agent: Agent, text: str, name: str) -> None:
    run(agent.reply(name, text))


@when(step('an agent replies "{text:Text}" to "{name:Text}" and Twilio refuses it with the error {code:d}'))
def _reply_refused(run: Run[None], agent: Agent, text: str, name: str, code: int) -> None:
    run(agent.reply(name, text, refused_with=str(code)))


@when("the provider delivers that webhook again")
def _again(run: Run[None], inbound: InboundDriver) -> None:
    run(inbound.resend("the same webhook"))


@then(step('the consent of "{name:Text}" is unknown'))
def _unknown(run: Run[ConsentState], agent: Agent, name: str) -> None:
    state = run(agent.consent(name))
    assert (state.status, state.source, state.at) == (None, None, None), state


@then(step('the consent of "{name:Text}" is {status:Text} from "{source:Text}"'))
def _consent(run: Run[ConsentState], agent: Agent, name: str, status: str, source: str) -> None:
    state = run(agent.consent(name))
    assert state.status is not None and (state.status.value, state.source) == (status, source), state


@then(step("the send is refused because {reason:Text}"))
def _refused(agent: Agent, reason: str) -> None:
    outcome = agent.outcome
    assert isinstance(outcome, PolicyBlocked) and outcome.reason == reason, outcome


@then("the reply is queued")
def _queued(agent: Agent) -> None:
    outcome = agent.outcome
    assert isinstance(outcome, Queued) and outcome.message.status.value == "queued", outcome


@then(step('the audit log lists "{actions:Text}" and its chain verifies'))
def _audit(run: Run[Any], agent: Agent, actions: str) -> None:
    entries, ok = run(agent.audit())
    assert [e.action for e in entries] == actions.split(", ") and ok, entries


@then(step('the last audit entry is "{action:Text}" by "{actor:Text}"'))
def _last_entry(run: Run[Any], agent: Agent, action: str, actor: str) -> None:
    entries, ok = run(agent.audit())
    assert (entries[-1].action, entries[-1].actor, ok) == (action, actor, True), entries
