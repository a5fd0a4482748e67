"""Phone identity keys: one key per person, however a provider spells the number."""
from __future__ import annotations


def identity_key(e164: str) -> str:
    """The key a phone number is matched by. Brazilian mobiles are reached with and without the ninth digit
    (+55 AA 9XXXX-XXXX and the older +55 AA XXXX-XXXX that WhatsApp still reports for old accounts): both
    map to the 8-digit form, so one person stays one contact."""
    digits = e164.lstrip("+")
    if digits.startswith("55") and len(digits) == 13 and digits[4] == "9" and digits[5] in "6789":
        return "+" + digits[:4] + digits[5:]
    return "+" + digits


def spellings(e164: str) -> list[str]:
    """Every E.164 spelling of the same line: for a Brazilian mobile, with and without the ninth digit."""
    key = identity_key(e164)
    digits = key.lstrip("+")
    if digits.startswith("55") and len(digits) == 12 and digits[4] in "6789":
        return [key, "+" + digits[:4] + "9" + digits[4:]]
    return [key]
