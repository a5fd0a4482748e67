"""Identifier types. Ids are UUID strings made by the `IdGenerator` port."""
from typing import NewType

TeamId = NewType("TeamId", str)
UserId = NewType("UserId", str)
TokenId = NewType("TokenId", str)
ClientId = NewType("ClientId", str)
OrderId = NewType("OrderId", str)
InvoiceId = NewType("InvoiceId", str)
TransactionId = NewType("TransactionId", str)
MeasurementId = NewType("MeasurementId", str)
AccountId = NewType("AccountId", str)
ContactId = NewType("ContactId", str)
ThreadId = NewType("ThreadId", str)
MessageId = NewType("MessageId", str)
LabelId = NewType("LabelId", str)
