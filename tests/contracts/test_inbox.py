"""Inbox operations on both adapters: thread queries and paging, assignment, status and snooze, unread
counts, labels and links — each team seeing only its own."""
from __future__ import annotations

import datetime as dt
import uuid

import attrs
import pytest

from commsinbox.adapters.clock import FixedClock
from commsinbox.domain.model.errors import Conflict, InvalidInput, NotFound
from commsinbox.domain.model.labels import RecordType, ThreadFilter, ThreadLink
from commsinbox.domain.model.paging import PageRequest
from commsinbox.domain.model.threads import ThreadStatus
from commsinbox.domain.model.values import Role
from commsinbox.domain.usecases.clients import ClientFields
from commsinbox.domain.usecases.records import RecordFields
from commsinbox.domain.usecases.teams import TeamChanges
from commsinbox.entrypoints.container import Services
from tests.conftest import Member, join, make_team
from tests.contracts.test_ingest import T0, connect, text

pytestmark = pytest.mark.integration
ALL = ThreadFilter()


async def threads_of(services: Services, member: Member, where: ThreadFilter = ALL, limit: int = 50) -> list:  # type: ignore[type-arg]
    page = await services.inbox.list(member.actor, where, PageRequest(limit=limit))
    return list(page.items)


async def inbound(services: Services, key: str, contacts: int = 1, each: int = 1) -> None:
    batch = [text(key, wa_id=f"1555000{c:04d}", phone=f"+1555000{c:04d}", body=f"c{c}m{i}", minutes=c * 10 + i)
             for c in range(contacts) for i in range(each)]
    await services.ingest.ingest(batch)


async def test_inbound_messages_count_as_unread_until_marked_read(services: Services) -> None:
    member = await make_team(services)
    key = await connect(services, member)
    await inbound(services, key, each=3)
    [view] = await threads_of(services, member)
    assert view.thread.unread_count == 3 and view.contact.phone == "+15550000000"
    await services.ingest.ingest([text(key, wa_id="15550000000", phone="+15550000000", minutes=5)])
    assert (await services.inbox.get(member.actor, view.thread.id)).thread.unread_count == 4
    read = await services.inbox.mark_read(member.actor, view.thread.id)
    assert read.thread.unread_count == 0
    assert await threads_of(services, member, ThreadFilter(unread=True)) == []
    assert len(await threads_of(services, member, ThreadFilter(unread=False))) == 1


async def test_threads_page_newest_first_by_last_message(services: Services) -> None:
    member = await make_team(services)
    key = await connect(services, member)
    await inbound(services, key, contacts=5)
    seen, cursor = [], None
    while True:
        page = await services.inbox.list(member.actor, ALL, PageRequest.of(cursor, 2))
        seen += [v.thread for v in page.items]
        if not (cursor := page.next_cursor):
            break
    assert [t.last_message_at for t in seen] == sorted((t.last_message_at for t in seen), reverse=True)
    assert len({t.id for t in seen}) == 5


async def test_assign_only_to_a_member_and_filter_by_assignee(services: Services) -> None:
    owner = await make_team(services)
    agent = await join(services, owner, Role.AGENT)
    stranger = await make_team(services)
    key = await connect(services, owner)
    await inbound(services, key, contacts=2)
    first, second = await threads_of(services, owner)
    assigned = await services.inbox.assign(agent.actor, first.thread.id, agent.user_id)
    assert assigned.thread.assignee_id == agent.user_id
    with pytest.raises(InvalidInput) as refused:
        await services.inbox.assign(owner.actor, second.thread.id, stranger.user_id)
    assert refused.value.fields[0].path == "userId"
    mine = await threads_of(services, owner, ThreadFilter(assignee_id=agent.user_id))
    assert [v.thread.id for v in mine] == [first.thread.id]
    assert (await services.inbox.assign(owner.actor, first.thread.id, None)).thread.assignee_id is None


async def test_a_snoozed_thread_wakes_when_its_time_comes_or_a_message_arrives(services: Services) -> None:
    member = await make_team(services)
    key = await connect(services, member)
    await inbound(services, key, contacts=2)
    clock = FixedClock(dt.datetime.now(dt.UTC))
    inbox = attrs.evolve(services.inbox, clock=clock)
    first, second = await threads_of(services, member)
    with pytest.raises(InvalidInput):
        await inbox.set_status(member.actor, first.thread.id, "snoozed", clock.now())
    with pytest.raises(InvalidInput):
        await inbox.set_status(member.actor, first.thread.id, "snoozed")
    for view in (first, second):
        snoozed = await inbox.set_status(member.actor, view.thread.id, "snoozed", clock.now() + dt.timedelta(hours=1))
        assert snoozed.thread.status is ThreadStatus.SNOOZED
    assert len((await inbox.list(member.actor, ThreadFilter(status="snoozed"), PageRequest())).items) == 2
    clock.advance(dt.timedelta(hours=1))
    woken = (await inbox.list(member.actor, ThreadFilter(status="open"), PageRequest())).items
    assert {v.thread.id for v in woken} == {first.thread.id, second.thread.id}
    assert {v.thread.status for v in woken} == {ThreadStatus.OPEN}
    assert (await inbox.list(member.actor, ThreadFilter(status="snoozed"), PageRequest())).items == ()
    # a new inbound message reopens a snoozed thread at once
    await services.inbox.set_status(member.actor, first.thread.id, "snoozed", T0 + dt.timedelta(days=3650))
    phone = first.contact.phone
    await services.ingest.ingest([text(key, wa_id=phone[1:], phone=phone, minutes=30)])
    assert (await services.inbox.get(member.actor, first.thread.id)).thread.status is ThreadStatus.OPEN
    resolved = await services.inbox.set_status(member.actor, second.thread.id, "resolved")
    assert resolved.thread.status is ThreadStatus.RESOLVED and resolved.thread.snoozed_until is None


async def test_labels_are_unique_per_team_and_filter_threads(services: Services) -> None:
    member = await make_team(services)
    other = await make_team(services)
    key = await connect(services, member)
    await inbound(services, key, contacts=2)
    vip = await services.labels.create(member.actor, "VIP")
    with pytest.raises(Conflict):
        await services.labels.create(member.actor, "vip")
    await services.labels.create(other.actor, "VIP")  # another team's names are its own
    late = await services.labels.create(member.actor, "Late")
    with pytest.raises(Conflict):
        await services.labels.update(member.actor, late.id, "Vip")
    first, second = await threads_of(services, member)
    await services.labels.apply(member.actor, vip.id, first.thread.id)
    await services.labels.apply(member.actor, vip.id, first.thread.id)  # idempotent
    await services.labels.apply(member.actor, late.id, first.thread.id)
    await services.labels.apply(member.actor, vip.id, second.thread.id)
    view = await services.inbox.get(member.actor, first.thread.id)
    assert [label.name for label in view.labels] == ["Late", "VIP"]
    both = await threads_of(services, member, ThreadFilter(label_ids=(vip.id, late.id)))
    assert [v.thread.id for v in both] == [first.thread.id]
    await services.labels.remove(member.actor, vip.id, second.thread.id)
    assert len(await threads_of(services, member, ThreadFilter(label_ids=(vip.id,)))) == 1
    renamed = await services.labels.update(member.actor, late.id, "Overdue")
    assert [x.name for x in await services.labels.list(member.actor)] == ["Overdue", "VIP"] and renamed.id == late.id
    await services.labels.delete(member.actor, vip.id)
    assert [x.name for x in (await services.inbox.get(member.actor, first.thread.id)).labels] == ["Overdue"]
    with pytest.raises(NotFound):
        await services.labels.delete(member.actor, vip.id)


async def test_another_teams_label_thread_or_record_reads_as_not_found(services: Services) -> None:
    member = await make_team(services)
    other = await make_team(services)
    key = await connect(services, member)
    await inbound(services, key)
    [view] = await threads_of(services, member)
    theirs = await services.labels.create(other.actor, "Theirs")
    mine = await services.labels.create(member.actor, "Mine")
    their_client = await services.clients.create(other.actor, ClientFields("Bob"))
    for attempt in (services.labels.apply(member.actor, theirs.id, view.thread.id),
                    services.labels.apply(other.actor, mine.id, view.thread.id),
                    services.labels.apply(other.actor, theirs.id, view.thread.id),
                    services.inbox.get(other.actor, view.thread.id),
                    services.inbox.mark_read(other.actor, view.thread.id),
                    services.inbox.link(member.actor, view.thread.id, "client", their_client.id),
                    services.inbox.link(member.actor, view.thread.id, "order", str(uuid.uuid4()))):
        with pytest.raises(NotFound):
            await attempt
    assert await threads_of(services, other) == []


async def test_links_to_records_and_a_clients_threads(services: Services) -> None:
    member = await make_team(services)
    key = await connect(services, member)
    await inbound(services, key, contacts=2)
    first, second = await threads_of(services, member)
    client = await services.clients.create(member.actor, ClientFields("Ana"))
    order = await services.records.create(member.actor, "order", RecordFields(number="A-1"))
    linked = await services.inbox.link(member.actor, first.thread.id, "client", client.id)
    await services.inbox.link(member.actor, first.thread.id, "client", client.id)  # idempotent
    linked = await services.inbox.link(member.actor, first.thread.id, "order", order.id)
    assert set(linked.links) == {ThreadLink(RecordType.CLIENT, client.id), ThreadLink(RecordType.ORDER, order.id)}
    with pytest.raises(InvalidInput):
        await services.inbox.link(member.actor, first.thread.id, "measurement", order.id)
    of_client = await threads_of(services, member, ThreadFilter(link=ThreadLink(RecordType.CLIENT, client.id)))
    assert [v.thread.id for v in of_client] == [first.thread.id]
    unlinked = await services.inbox.unlink(member.actor, first.thread.id, "client", client.id)
    assert unlinked.links == (ThreadLink(RecordType.ORDER, order.id),)
    assert await threads_of(services, member, ThreadFilter(link=ThreadLink(RecordType.CLIENT, client.id))) == []
    assert attrs.evolve(second).links == ()


async def test_inbox_changes_are_recorded_as_events_for_the_live_stream(services: Services) -> None:
    member = await make_team(services)
    key = await connect(services, member)
    await inbound(services, key)
    [view] = await threads_of(services, member)
    thread_id = view.thread.id
    client = await services.clients.create(member.actor, ClientFields("Ana"))
    label = await services.labels.create(member.actor, f"vip-{uuid.uuid4().hex[:6]}")
    await services.inbox.assign(member.actor, thread_id, member.user_id)
    await services.inbox.set_status(member.actor, thread_id, "pending")
    await services.labels.apply(member.actor, label.id, thread_id)
    await services.inbox.link(member.actor, thread_id, "client", client.id)
    async with services.uows.for_team(member.team_id) as uow:
        recorded = [(e.kind, e.payload.get("threadId")) for e in await uow.outbox.since(None, 100)]
    assert recorded[-4:] == [("thread.assigned", thread_id), ("thread.status_changed", thread_id),
                             ("thread.labelled", thread_id), ("thread.linked", thread_id)]


async def test_search_by_contact_name_phone_and_message_text(services: Services) -> None:
    member, other = await make_team(services), await make_team(services)
    key, other_key = await connect(services, member), await connect(services, other)
    await services.ingest.ingest([
        text(key, wa_id="5511912340001", phone="+5511912340001", body="Is the blue dress still available?"),
        text(key, wa_id="5511912340002", phone="+5511912340002", body="When do you open tomorrow?", minutes=1)])
    await services.ingest.ingest([text(other_key, wa_id="5511912340003", phone="+5511912340003",
                                       body="blue dress for the other team")])

    async def found(query: str) -> list[str]:
        return sorted(v.contact.phone for v in await threads_of(services, member, ThreadFilter(query=query)))

    assert await found("blue dress") == ["+5511912340001"]  # every word, in any order, from one message
    assert await found("DRESS available") == ["+5511912340001"]
    assert await found("dress tomorrow") == []  # the words must be in the same message
    assert await found("12340002") == ["+5511912340002"]  # digits of the phone
    assert await found("ana") == ["+5511912340001", "+5511912340002"]  # the contact's name
    assert await found("team") == []  # the other team's message is never searched


async def test_search_semantics_name_beginnings_phone_digits_anywhere_and_whole_words(services: Services) -> None:
    """The rule of domain/model/search.py, the same on both adapters (PostgreSQL reads its search-term tables)."""
    member = await make_team(services)
    key = await connect(services, member)

    def named(name: str, digits: str, body: str, minutes: int) -> object:
        message = text(key, wa_id=digits, phone="+" + digits, body=body, minutes=minutes)
        return attrs.evolve(message, contact=attrs.evolve(message.contact, display_name=name))

    await services.ingest.ingest([
        named("Mariana Carvalho", "5511912340001", "Refund for the DAMAGED box, order 123456", 0),  # type: ignore[list-item]
        named("João Souza-Lima", "5521987650002", "Is the réfund_code ready? " + "x" * 70 + "yz", 1),  # type: ignore[list-item]
        named("Carla", "14155550003", "hello", 2)])  # type: ignore[list-item]

    async def found(query: str) -> list[str]:
        return sorted(v.contact.display_name for v in await threads_of(services, member, ThreadFilter(query=query)))

    assert await found("carv") == ["Mariana Carvalho"]  # a name word's beginning, in any case
    assert await found("arvalho") == []  # … not its middle
    assert await found("mar CARV") == ["Mariana Carvalho"]  # every query word begins some name word
    assert await found("mar lima") == []
    assert await found("joão") == await found("JOÃO") == ["João Souza-Lima"]
    assert await found("lima") == ["João Souza-Lima"]  # "-" separates words
    assert await found("1234-0001") == ["Mariana Carvalho"]  # digits anywhere in the phone, separators ignored
    assert await found("(55) 21 98765") == ["João Souza-Lima"]
    assert await found("555") == []  # fewer than four digits never search phones
    assert await found("damaged refund") == ["Mariana Carvalho"]  # whole message words, any order and case
    assert await found("damage") == []  # … whole words only
    assert await found("123456") == ["Mariana Carvalho"]
    assert await found("réfund_code") == ["João Souza-Lima"]  # letters beyond ASCII and "_" belong to words
    assert await found("x" * 64) == ["João Souza-Lima"]  # a long word counts by its first 64 characters
    assert await found("carla hello") == []  # name words and message words do not mix
    assert await found("!!") == []


async def test_agents_see_their_own_threads_and_unassigned_ones_while_the_team_allows(services: Services) -> None:
    owner = await make_team(services)
    agent, other = await join(services, owner, Role.AGENT), await join(services, owner, Role.AGENT)
    key = await connect(services, owner)
    await inbound(services, key, contacts=3)
    mine, theirs, unassigned = (v.thread.id for v in await threads_of(services, owner))
    await services.inbox.assign(owner.actor, mine, agent.user_id)
    await services.inbox.assign(owner.actor, theirs, other.user_id)
    assert {v.thread.id for v in await threads_of(services, agent)} == {mine, unassigned}
    assert len(await threads_of(services, owner)) == 3  # inbox.read_all
    with pytest.raises(NotFound):
        await services.inbox.get(agent.actor, theirs)
    label = await services.labels.create(owner.actor, "vip")
    with pytest.raises(NotFound):
        await services.labels.apply(agent.actor, label.id, theirs)
    await services.teams.update(owner.actor, TeamChanges(agents_see_unassigned=False))
    assert [v.thread.id for v in await threads_of(services, agent)] == [mine]
    with pytest.raises(NotFound):
        await services.inbox.set_status(agent.actor, unassigned, "resolved")
    handed_over = await services.inbox.assign(agent.actor, mine, other.user_id)  # hands it over ...
    assert handed_over.thread.assignee_id == other.user_id
    assert await threads_of(services, agent) == []  # ... and no longer sees it
