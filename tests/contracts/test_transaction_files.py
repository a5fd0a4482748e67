"""A message's attachment attached to a transaction without a copy, on both adapters."""
from __future__ import annotations

import hashlib

import pytest

from commsinbox.domain.model.channels import MessageType
from commsinbox.domain.model.errors import Forbidden, InvalidInput, NotFound
from commsinbox.domain.model.inbound import MediaRef
from commsinbox.domain.model.values import Role
from commsinbox.domain.usecases.media import attachment_key
from commsinbox.domain.usecases.records import RecordFields
from commsinbox.entrypoints.container import Services
from tests.conftest import Member, join, make_team
from tests.contracts.test_ingest import connect, text

pytestmark = pytest.mark.integration
RECEIPT = b"%PDF-1.7 receipt of payment"


async def stored_attachment(services: Services, member: Member) -> str:
    """A customer's PDF, downloaded and stored as the media download stores it; returns the attachment id."""
    key = await connect(services, member)
    pdf = MediaRef(MessageType.DOCUMENT, media_id="m-1", content_type="application/pdf")
    result = await services.ingest.ingest([text(key, body=None, media=(pdf,))])
    async with services.uows.for_team(member.team_id) as uow:
        message = await uow.messages.get(result.new_messages[0][1])
        assert message is not None
        [attachment] = await uow.messages.attachments(message.id)
        attachment.content_type, attachment.size = "application/pdf", len(RECEIPT)
        attachment.checksum = hashlib.sha256(RECEIPT).hexdigest()
        attachment.storage_path = attachment_key(member.team_id, message.thread_id, attachment)
        await services.storage.put(attachment.storage_path, RECEIPT, "application/pdf")
        await uow.messages.update_attachment(attachment)
        await uow.commit()
    return attachment.id


async def transaction(services: Services, member: Member) -> str:
    return str((await services.records.create(member.actor, "transaction", RecordFields(amount="10", currency="USD"))).id)


async def test_an_attachment_is_attached_to_a_transaction_without_a_copy(services: Services,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await make_team(services)
    attachment_id, transaction_id = await stored_attachment(services, owner), await transaction(services, owner)

    async def no_writes(*args: object) -> None:
        raise AssertionError("attaching wrote to storage")

    monkeypatch.setattr(type(services.storage), "put", no_writes)
    file = await services.vault.attach(owner.actor, transaction_id, attachment_id=attachment_id)
    assert file.path.startswith("threads/") and file.size == len(RECEIPT)
    assert file.checksum == hashlib.sha256(RECEIPT).hexdigest()
    again = await services.vault.attach(owner.actor, transaction_id, attachment_id=attachment_id)  # idempotent
    assert again == file
    assert await services.vault.attached(owner.actor, transaction_id) == [file]
    downloaded, data = await services.vault.download(owner.actor, file.path)
    assert data == RECEIPT and downloaded == file


async def test_the_conversations_media_cannot_be_overwritten_through_the_vault(services: Services) -> None:
    owner = await make_team(services)
    attachment_id, transaction_id = await stored_attachment(services, owner), await transaction(services, owner)
    file = await services.vault.attach(owner.actor, transaction_id, attachment_id=attachment_id)
    with pytest.raises(InvalidInput) as refused:
        await services.vault.upload(owner.actor, file.path, b"forged", "application/pdf")
    assert refused.value.fields[0].path == "path"
    assert (await services.vault.download(owner.actor, file.path))[1] == RECEIPT


async def test_another_teams_attachment_or_transaction_is_not_found(services: Services) -> None:
    ours, theirs = await make_team(services), await make_team(services)
    our_attachment, our_transaction = await stored_attachment(services, ours), await transaction(services, ours)
    their_transaction = await transaction(services, theirs)
    with pytest.raises(NotFound):
        await services.vault.attach(theirs.actor, their_transaction, attachment_id=our_attachment)
    with pytest.raises(NotFound):
        await services.vault.attach(ours.actor, their_transaction, attachment_id=our_attachment)
    with pytest.raises(NotFound):
        await services.vault.attached(theirs.actor, our_transaction)
    assert await services.vault.attached(ours.actor, our_transaction) == []


async def test_attaching_needs_records_write_and_one_source(services: Services) -> None:
    owner = await make_team(services)
    agent = await join(services, owner, Role.AGENT)
    attachment_id, transaction_id = await stored_attachment(services, owner), await transaction(services, owner)
    with pytest.raises(Forbidden):
        await services.vault.attach(agent.actor, transaction_id, attachment_id=attachment_id)
    with pytest.raises(InvalidInput):
        await services.vault.attach(owner.actor, transaction_id)
    uploaded = await services.vault.upload(owner.actor, "transactions/t1/invoice.pdf", RECEIPT, "application/pdf")
    assert await services.vault.attach(owner.actor, transaction_id, path=uploaded.path) == uploaded
