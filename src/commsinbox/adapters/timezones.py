"""Where a phone number's owner most likely is: the numbering plan's time zone (phonenumbers' geodata)."""
from __future__ import annotations

import phonenumbers
from phonenumbers import timezone

_UNKNOWN = "Etc/Unknown"


class NumberingPlanTimezones:
    """A number whose prefix the numbering plan places in exactly one zone (+55 11 → America/Sao_Paulo,
    +1 212 → America/New_York) has that zone; a number spread over several (most mobile ranges of a country with
    more than one zone) or not placed at all has none, and the team's zone applies."""

    def zone_of(self, phone: str) -> str | None:
        try:
            number = phonenumbers.parse(phone, None)
        except phonenumbers.NumberParseException:
            return None
        zones = timezone.time_zones_for_number(number)
        return zones[0] if len(zones) == 1 and zones[0] != _UNKNOWN else None
