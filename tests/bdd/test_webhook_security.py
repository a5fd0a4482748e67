"""Living documentation of webhook authenticity and limits: features/webhook_security.feature."""
from __future__ import annotations

from typing import Any

from pytest_bdd import scenarios, then, when

from commsinbox.domain.model.channels import Provider
from tests.bdd.conftest import Run
from tests.bdd.webhooks_driver import InboundDriver, step
from tests.support.webhooks import META_VERIFY_TOKEN

scenarios("webhook_security.feature")
CHALLENGE = "1158201444"
HANDSHAKES = {  # what each refused handshake sends: hub.mode, hub.verify_token, hub.challenge
    "a subscription with a wrong token": ("subscribe", "not-the-token", CHALLENGE),
    "a subscription with no token": ("subscribe", None, CHALLENGE),
    "a request that is not a subscription": ("unsubscribe", META_VERIFY_TOKEN, CHALLENGE),
    "a subscription with no challenge": ("subscribe", META_VERIFY_TOKEN, None),
}


## When

@when(step("a {provider:Provider} webhook arrives with {signing:Signing}"))
def _signed(run: Run[None], inbound: InboundDriver, provider: Provider, signing: str) -> None:
    run(inbound.signed_text(provider, signing))


@when(step("a correctly signed {provider:Provider} webhook arrives with {defect:Text}"))
def _malformed(run: Run[None], inbound: InboundDriver, provider: Provider, defect: str) -> None:
    run(inbound.malformed(provider, defect))


@when(step('Meta asks to subscribe the {provider:Provider} webhook with the verify token "{token:Text}"'))
def _subscribe(run: Run[None], inbound: InboundDriver, provider: Provider, token: str) -> None:
    run(inbound.handshake(provider, "subscribe", token, CHALLENGE))


@when(step("{request:Text} arrives for the {provider:Provider} webhook"))
def _refused_handshake(run: Run[None], inbound: InboundDriver, request: str, provider: Provider) -> None:
    run(inbound.handshake(provider, *HANDSHAKES[request]))


@when(step("a signed {provider:Provider} webhook of {size:d} bytes arrives {transfer:Text}"))
def _sized(run: Run[None], inbound: InboundDriver, provider: Provider, size: int, transfer: str) -> None:
    run(inbound.sized(provider, size, chunked=transfer == "in chunks"))


## Then

@then(step("nothing is stored"))
def _nothing_stored(run: Run[Any], inbound: InboundDriver) -> None:
    assert run(inbound.kept_webhooks()) == 0
    assert "Olá" not in inbound.sent or run(inbound.message("Olá")) is None


@then(step("its message is stored"))
def _stored(run: Run[Any], inbound: InboundDriver) -> None:
    assert run(inbound.kept_webhooks()) == 1
    assert run(inbound.message("Olá")) is not None


@then(step("the answer is the challenge"))
def _challenge(run: Run[str], inbound: InboundDriver) -> None:
    assert run(inbound.response.text()) == CHALLENGE
