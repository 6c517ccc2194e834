"""Contact details taken out of free text before anyone but a moderator reads it: e-mail addresses, phone
numbers, IP addresses and links that carry a user name or password."""

import re

EMAIL_REMOVED = "[email removed]"
PHONE_REMOVED = "[phone removed]"
LINK_REMOVED = "[link removed]"
ADDRESS_REMOVED = "[IP address removed]"

_LINK_WITH_LOGIN = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/?#@]+@\S+", re.IGNORECASE)
_AT = r"(?:@|\s*[\[(]\s*at\s*[\])]\s*)"
_DOT = r"(?:\.|\s*[\[(]\s*dot\s*[\])]\s*)"
_EMAIL = re.compile(rf"[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)+", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]?\d)")
# A run of digits that may be a phone number: an optional + or (, digits and the separators people type.
_PHONE = re.compile(r"(?<![\w+])(?:\+\s?)?\(?\d[\d\s().\-/]{4,}\d(?![\w.]?\d)")
_DATE = re.compile(r"\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")


def redact(text: str) -> str:
    """`text` with contact details replaced by a note saying what was removed."""
    text = _LINK_WITH_LOGIN.sub(LINK_REMOVED, text)
    text = _EMAIL.sub(EMAIL_REMOVED, text)
    text = _IPV4.sub(ADDRESS_REMOVED, text)
    return _PHONE.sub(_phone_or_not, text)


def _phone_or_not(found: re.Match[str]) -> str:
    candidate = found.group(0).strip()
    digits = sum(character.isdigit() for character in candidate)
    if _DATE.fullmatch(candidate) or digits > 17:
        return found.group(0)
    formatted = candidate.startswith(("+", "(")) or not candidate.isdigit()
    return PHONE_REMOVED if digits >= (7 if formatted else 9) else found.group(0)
