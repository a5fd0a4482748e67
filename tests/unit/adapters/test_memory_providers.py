"""The memory provider gateway records what it sends and fails on demand, like the real gateways would."""
from __future__ import annotations

import pytest

from commsinbox.adapters.memory.providers import MemoryProviderGateway, MemoryProviderRegistry
from commsinbox.domain.model.channels import Provider
from commsinbox.domain.model.errors import InvalidInput
from commsinbox.ports.providers import (AccountAccess, CredentialsRejected, FailureReason, Outgoing, OutgoingTemplate,
                                        ProviderError)

pytestmark = pytest.mark.unit

WA = AccountAccess(Provider.WHATSAPP_META, "106540352242922", {"accessToken": "t"})
TWILIO = AccountAccess(Provider.WHATSAPP_TWILIO, "+14155238886", {"accountSid": "AC" + "0" * 32, "authToken": "a"})


async def test_it_records_each_send_with_a_distinct_id() -> None:
    gateway = MemoryProviderRegistry().gateway(Provider.WHATSAPP_META)
    first = await gateway.send(WA, Outgoing(to="16505551234", idempotency_key="k1", text="one"))
    second = await gateway.send(WA, Outgoing(to="16505551234", idempotency_key="k2", text="two"))
    assert first.provider_message_id != second.provider_message_id
    assert [(s.message.text, s.provider_message_id) for s in gateway.sent] == [
        ("one", first.provider_message_id), ("two", second.provider_message_id)]


async def test_queued_failures_are_raised_in_order_then_sends_succeed() -> None:
    gateway = MemoryProviderGateway(Provider.WHATSAPP_META)
    throttled = ProviderError("slow down", transient=True, code="130429", reason=FailureReason.RATE_LIMITED)
    lost = ProviderError("timed out", transient=False, ambiguous=True)
    gateway.fail_next_sends(throttled, lost)
    message = Outgoing(to="16505551234", idempotency_key="k", text="hi")
    for expected in (throttled, lost):
        with pytest.raises(ProviderError) as caught:
            await gateway.send(WA, message)
        assert caught.value is expected
    await gateway.send(WA, message)
    assert (gateway.attempts, len(gateway.sent)) == (3, 1)


async def test_invalid_messages_and_rejected_tokens_are_refused_before_recording() -> None:
    gateway = MemoryProviderGateway(Provider.INSTAGRAM_META, rejected_tokens={"bad"})
    access = AccountAccess(Provider.INSTAGRAM_META, "17841400000000001", {"accessToken": "t"})
    with pytest.raises(InvalidInput):
        await gateway.send(access, Outgoing(to="42", idempotency_key="k", template=OutgoingTemplate("a", "en")))
    with pytest.raises(CredentialsRejected):
        await gateway.send(AccountAccess(Provider.INSTAGRAM_META, "1", {"accessToken": "bad"}),
                           Outgoing(to="42", idempotency_key="k", text="hi"))
    assert gateway.sent == []


async def test_read_marks_and_templates() -> None:
    twilio, whatsapp = MemoryProviderGateway(Provider.WHATSAPP_TWILIO), MemoryProviderGateway(Provider.WHATSAPP_META)
    await twilio.mark_read(TWILIO, "SM1", "+16505551234")
    await whatsapp.mark_read(WA, "wamid.1", "16505551234")
    assert twilio.reads == [] and [r.provider_message_id for r in whatsapp.reads] == ["wamid.1"]
    template_id = await whatsapp.submit_template(WA, "welcome", "en_US", "utility", "Hi {{1}}")
    assert [(t.template_id, t.category) for t in whatsapp.templates] == [(template_id, "UTILITY")]
    with pytest.raises(ProviderError) as caught:
        await twilio.submit_template(TWILIO, "welcome", "en_US", "utility", "Hi")
    assert caught.value.reason == "unsupported"
