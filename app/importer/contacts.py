"""Email addresses and phone numbers: the fast paths that accept what the libraries would, and parsing.

phonenumbers and email_validator are imported where they are first needed, not at the top: together
they are 0.08 s of every start-up, and the fast paths mostly do without them.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# --- Email -----------------------------------------------------------------------------------------

# Addresses this simple are always accepted by email_validator, which costs ~20 µs a call (~40 µs with
# an accent); anything else still goes through email_validator, so the fast path never accepts more than
# it would. Before the @: ASCII atext, and letters and digits of any script (\w: Unicode categories L
# and N, which email_validator permits), written in NFC; after it, a plain ASCII domain.
_SIMPLE_EMAIL = re.compile(
    r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z])?"
)
MANY_ADDRESSES = re.compile(r"[^\s;,]+@[^\s;,]+[\s;,]+[^\s;,]+@")


def is_simple_email(text: str) -> bool:
    """True for plain ASCII addresses that email_validator is known to accept."""
    if len(text) > 254 or not _SIMPLE_EMAIL.fullmatch(text):
        return False
    if not text.isascii() and (len(text.encode()) > 254 or not unicodedata.is_normalized("NFC", text)):
        return False
    domain = text[text.index("@"):].lower()
    # Labels like "ab--c" and "xn--" get IDNA rules; special-use names are refused: leave both to the validator.
    return "--" not in domain and not ("." + domain[1:]).endswith(_SPECIAL_USE_SUFFIXES)


# email_validator's own words for plain text with no @ at all ("none", "declined", "n/a": the commonest
# bad email a practice system exports), said without importing it. Not for text with a "<" (read as a
# display name) or beyond ASCII (a full-width @ has its own message): those go to the validator. Tests
# keep the answers the validator's.
NO_AT_SIGN = "An email address must have an @-sign."


def email_problem(text: str) -> str | None:
    """Why email_validator refuses an address (its message), or None if it accepts it. For what
    is_simple_email does not take: the validator is imported only here."""
    if text.isascii() and "@" not in text and "<" not in text:
        return NO_AT_SIGN
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        return str(error)
    return None


# email_validator.SPECIAL_USE_DOMAIN_NAMES, copied: importing the library to read it cost every preview
# 0.02 s (its regular expressions are compiled on import). A test keeps the two lists equal.
SPECIAL_USE_DOMAIN_NAMES = ("arpa", "invalid", "local", "localhost", "onion", "test")
_SPECIAL_USE_SUFFIXES = tuple("." + name for name in SPECIAL_USE_DOMAIN_NAMES)


# Numbers written the North American way are checked against the region's own patterns directly:
# phonenumbers.parse plus is_valid_number cost ~25 µs a number, and a row has three phone columns.
_NANP_NUMBER = re.compile(r"(?:\+?1[-. ]?)?\(?([2-9]\d{2})\)?[-. ]?(\d{3})[-. ]?(\d{4})")


@lru_cache(maxsize=None)
def _nanp_pattern(region: str) -> re.Pattern | None:
    """One pattern for a valid 10-digit national number of a +1 region: its general pattern and a
    fixed-line or mobile one; None outside +1 (or without such patterns), for phonenumbers to decide."""
    import phonenumbers

    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code != 1:
        return None
    general = metadata.general_desc
    if general.possible_length and 10 not in general.possible_length:
        return None
    kinds = [desc for desc in (metadata.fixed_line, metadata.mobile)
             if desc is not None and desc.national_number_pattern
             and (not desc.possible_length or 10 in desc.possible_length)]
    if not kinds:
        return None
    either = "|".join(f"(?:{desc.national_number_pattern})" for desc in kinds)
    return re.compile(f"(?=(?:{general.national_number_pattern})\\Z)(?:{either})")


@lru_cache(maxsize=None)
def phone_example(region: str) -> str:
    import phonenumbers

    example = phonenumbers.example_number(region) or phonenumbers.example_number("US")
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL).replace("(", "").replace(") ", "-")


def parse_phone(text: str, region: str) -> tuple[str, str] | None:
    """(E.164 number, extension or "") if text is a valid phone number dialled from region, else None."""
    pattern = _nanp_pattern(region)
    if pattern is not None:
        match = _NANP_NUMBER.fullmatch(text)
        if match:
            national = match[1] + match[2] + match[3]
            if pattern.fullmatch(national):
                return "+1" + national, ""
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), number.extension or ""
