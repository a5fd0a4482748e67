"""Living documentation of inbound WhatsApp messages: features/inbound_whatsapp.feature."""
from __future__ import annotations

import hashlib
from typing import Any

from pytest_bdd import given, scenarios, then, when

from commsinbox.domain.model.channels import Direction, MessageType, Provider
from commsinbox.domain.model.threads import ThreadStatus
from tests.bdd.conftest import Run
from tests.bdd.webhooks_driver import InboundDriver, step

scenarios("inbound_whatsapp.feature")


## Given

@given(step('the team has a client "{name:Text}" with the phone {phone:Phone}'))
def _client(run: Run[None], inbound: InboundDriver, name: str, phone: str) -> None:
    run(inbound.add_client(name, phone))


@given(step('"{name:Text}" sent "{text:Text}" from {phone:Phone} through {provider:Provider}'))
def _sent(run: Run[None], inbound: InboundDriver, name: str, text: str, phone: str, provider: Provider) -> None:
    run(inbound.customer_sends(provider, name, text, phone))


@given(step('the team marked the thread of "{label:Text}" {status:ThreadStatus}'))
def _marked(run: Run[None], inbound: InboundDriver, label: str, status: ThreadStatus) -> None:
    run(inbound.set_thread_status(label, status))


## When

@when(step('one webhook brings {count:d} messages from "{name:Text}"'))
def _batch(run: Run[None], inbound: InboundDriver, count: int, name: str) -> None:
    run(inbound.customer_sends_batch(name, count))


@when(step("{provider:Provider} delivers the same webhook again"))
def _again(run: Run[None], inbound: InboundDriver, provider: Provider) -> None:
    run(inbound.resend("the same webhook"))


@when(step("{provider:Provider} delivers the same message again in another webhook"))
def _again_rebatched(run: Run[None], inbound: InboundDriver, provider: Provider) -> None:
    run(inbound.resend("another webhook"))


@when(step('"{name:Text}" sends a photo of {size:d} bytes through {provider:Provider}'), target_fixture="photo")
def _photo(run: Run[bytes], inbound: InboundDriver, name: str, size: int, provider: Provider) -> bytes:
    return run(inbound.customer_sends_photo(provider, name, size))


@when(step("the team connects the {provider:Provider} account"))
def _connects(run: Run[None], inbound: InboundDriver, provider: Provider) -> None:
    run(inbound.connect(provider))


@when(step("a customer sends {kind:Kind} through WhatsApp Cloud"))
def _kind(run: Run[None], inbound: InboundDriver, kind: str) -> None:
    run(inbound.customer_sends_kind(kind))


## Then

@then(step('the contact of "{label:Text}" is "{name:Text}" with the phone {phone:Phone}'))
def _contact(run: Run[Any], inbound: InboundDriver, label: str, name: str, phone: str) -> None:
    contact = run(inbound.contact_of(label))
    assert (contact.display_name, contact.phone) == (name, phone)


@then(step('the thread with "{name:Text}" holds {count:Count}'))
def _holds(run: Run[Any], inbound: InboundDriver, name: str, count: int) -> None:
    assert len(run(inbound.thread_messages(name))) == count


@then(step('the messages "{first:Text}" and "{second:Text}" are in 2 threads with 2 contacts'))
def _two_contacts(run: Run[Any], inbound: InboundDriver, first: str, second: str) -> None:
    threads = [run(inbound.thread_of(label)) for label in (first, second)]
    assert threads[0].id != threads[1].id and threads[0].contact_id != threads[1].contact_id


@then(step('the contact of "{label:Text}" is linked to the client "{name:Text}"'))
def _linked(run: Run[Any], inbound: InboundDriver, label: str, name: str) -> None:
    assert run(inbound.contact_of(label)).client_id == run(inbound.client_id(name))


@then(step('the contact of "{label:Text}" is not linked to the client "{name:Text}"'))
def _not_linked(run: Run[Any], inbound: InboundDriver, label: str, name: str) -> None:
    assert run(inbound.contact_of(label)).client_id != run(inbound.client_id(name))


@then(step('the thread of "{label:Text}" is {status:ThreadStatus}'))
def _thread_status(run: Run[Any], inbound: InboundDriver, label: str, status: ThreadStatus) -> None:
    assert run(inbound.thread_of(label)).status is status


@then(step("the photo is in the team's storage with its size of {size:d} bytes and its SHA-256 checksum"))
def _stored_photo(run: Run[Any], inbound: InboundDriver, photo: bytes, size: int) -> None:
    [attachment] = run(inbound.attachments("the photo"))
    assert (attachment.size, attachment.checksum, attachment.error) == (size, hashlib.sha256(photo).hexdigest(), None)
    assert run(inbound.services.storage.get(attachment.storage_path)) == photo


@then(step("the message is kept as an inbound {type:Type} message"))
def _last_kept_as(run: Run[Any], inbound: InboundDriver, type: MessageType) -> None:
    message = run(inbound.message(next(reversed(inbound.sent))))
    assert message is not None and (message.direction, message.type) == (Direction.IN, type)
