"""Living documentation of outbound messages' delivery status: features/delivery_status.feature."""
from __future__ import annotations

from typing import Any

from pytest_bdd import scenarios, then, when

from commsinbox.domain.model.channels import Provider
from tests.bdd.conftest import Run
from tests.bdd.webhooks_driver import InboundDriver, step

scenarios("delivery_status.feature")


## When

@when(step('{provider:Provider} reports {statuses:Statuses} for "{label:Text}"'))
def _reports(run: Run[None], inbound: InboundDriver, provider: Provider, statuses: list[str], label: str) -> None:
    for status in statuses:
        run(inbound.report(provider, label, status))


@when(step('{provider:Provider} reports that "{label:Text}" failed with the error {code:d}'))
def _reports_failure(run: Run[None], inbound: InboundDriver, provider: Provider, label: str, code: int) -> None:
    run(inbound.report(provider, label, "failed", str(code)))


@when(step('the business sends "{text:Text}" to "{name:Text}" from the {app:App}'))
def _echo(run: Run[None], inbound: InboundDriver, text: str, name: str, app: Provider) -> None:
    run(inbound.business_echo(app, name, text))


## Then

@then(step('"{label:Text}" was delivered when it was read'))
def _delivered_when_read(run: Run[Any], inbound: InboundDriver, label: str) -> None:
    message = run(inbound.message(label))
    assert message is not None and message.read_at is not None and message.delivered_at == message.read_at


@then(step('"{label:Text}" keeps the error {code:d} "{title:Text}"'))
def _keeps_error(run: Run[Any], inbound: InboundDriver, label: str, code: int, title: str) -> None:
    message = run(inbound.message(label))
    assert message is not None and (message.error_code, message.error_message) == (str(code), title)
