"""Domain events, written to the outbox in the same transaction as the change they describe."""
from __future__ import annotations

MESSAGE_RECEIVED = "message.received"  # a customer's message, or an echo of one the business sent elsewhere
MESSAGE_STATUS_CHANGED = "message.status_changed"
MESSAGE_QUEUED = "message.queued"  # an outbound message, decided and waiting for its send
MESSAGE_DELETED = "message.deleted"
THREAD_OPENED = "thread.opened"
THREAD_REOPENED = "thread.reopened"
TEMPLATE_STATUS_CHANGED = "template.status_changed"
THREAD_ASSIGNED = "thread.assigned"
THREAD_STATUS_CHANGED = "thread.status_changed"
THREAD_LABELLED = "thread.labelled"
THREAD_UNLABELLED = "thread.unlabelled"
THREAD_LINKED = "thread.linked"
THREAD_UNLINKED = "thread.unlinked"
CONSENT_CHANGED = "consent.changed"  # a contact's consent on a channel: by a member, a keyword or the provider
