"""Small value objects shared by the aggregates."""
from __future__ import annotations

import datetime as dt
import enum
import re
import zoneinfo
from decimal import Decimal, InvalidOperation

import attrs

from .errors import InvalidInput

# ISO 4217 active codes (2026). Kept here so the domain needs no library for a closed list.
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN
    BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD
    KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK
    NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP
    STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF
    XCD XCG XOF XPF YER ZAR ZMW ZWG""".split()
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def currency(code: str, path: str = "currency") -> str:
    if code not in CURRENCIES:
        raise InvalidInput.single(path, "must be an ISO 4217 currency code such as USD or BRL")
    return code


def timezone(name: str, path: str = "timezone") -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.single(path, "must be an IANA time zone such as America/Sao_Paulo") from None
    return name


def email(address: str, path: str = "email") -> str:
    address = address.strip().lower()
    if len(address) > 254 or not _EMAIL.match(address):
        raise InvalidInput.single(path, "must be an email address")
    return address


def amount(value: str | int | Decimal, path: str = "amount") -> Decimal:
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput.single(path, "must be a decimal number") from None
    if not result.is_finite() or result.as_tuple().exponent < -4 or abs(result) >= Decimal(10) ** 14:
        raise InvalidInput.single(path, "must be a finite number with at most 4 decimals")
    return result


def non_empty(text: str, path: str, max_length: int = 200) -> str:
    text = text.strip()
    if not text or len(text) > max_length:
        raise InvalidInput.single(path, f"must be 1 to {max_length} characters")
    return text


@attrs.frozen
class QuietHours:
    """A daily window, in local time, when business-initiated messages wait. May cross midnight."""

    start: dt.time
    end: dt.time = attrs.field()

    @end.validator
    def _differs(self, _attribute: object, value: dt.time) -> None:
        if value == self.start:
            raise ValueError("quiet hours must start and end at different times")

    @property
    def crosses_midnight(self) -> bool:
        return self.start > self.end

    @classmethod
    def parse(cls, text: str, path: str = "quietHours") -> QuietHours:
        parts = text.split("-")
        matches = [_HHMM.match(p) for p in parts] if len(parts) == 2 else []
        if len(matches) != 2 or not all(matches) or parts[0] == parts[1]:
            raise InvalidInput.single(path, "must be HH:MM-HH:MM with different start and end, e.g. 21:00-08:00")
        start, end = (dt.time(int(m.group(1)), int(m.group(2))) for m in matches if m)
        return cls(start, end)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class Role(enum.StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    AGENT = "agent"
    CUSTOM = "custom"


class Permission(enum.StrEnum):
    TEAM_READ = "team.read"
    TEAM_UPDATE = "team.update"
    MEMBERS_READ = "members.read"
    MEMBERS_MANAGE = "members.manage"
    CLIENTS_READ = "clients.read"
    CLIENTS_WRITE = "clients.write"
    CLIENTS_DELETE = "clients.delete"
    RECORDS_READ = "records.read"
    RECORDS_WRITE = "records.write"
    VAULT_READ = "vault.read"
    VAULT_WRITE = "vault.write"
    ACCOUNTS_READ = "accounts.read"
    ACCOUNTS_MANAGE = "accounts.manage"
    INBOX_READ = "inbox.read"
    INBOX_READ_ALL = "inbox.read_all"  # threads assigned to anyone; without it, one's own (and unassigned ones)
    INBOX_WRITE = "inbox.write"
    LABELS_MANAGE = "labels.manage"
    TEMPLATES_MANAGE = "templates.manage"  # create, edit, delete and submit message templates
    AUDIT_READ = "audit.read"  # the audit log: owners and managers
