"""Language codes as WhatsApp templates and consent keywords use them: `en`, `pt`, `en_US`, `pt_BR`, `fil`."""
from __future__ import annotations

import re

from .errors import InvalidInput

_CODE = re.compile(r"([a-z]{2,3})(?:[_-]([a-z]{2}))?", re.IGNORECASE)


def language_code(code: str, path: str = "language") -> str:
    """The canonical form (`pt_BR`: language lower case, region upper case, joined by `_`) of an ISO 639
    language with an optional ISO 3166 region. `pt-br` and `PT_br` are accepted and normalised."""
    match = _CODE.fullmatch(code.strip()) if isinstance(code, str) else None
    if not match:
        raise InvalidInput.single(path, "must be a language code such as en, en_US or pt_BR")
    language, region = match.group(1).lower(), match.group(2)
    return f"{language}_{region.upper()}" if region else language
