"""Countries and US states as people write them: ISO 3166 codes and names (pycountry), USPS codes.

pycountry takes ~80 ms to load its tables, so they are built on first use: only a file with a
Country or State column pays for them.
"""
from __future__ import annotations

import re
from functools import cache

_NAME_KEY = re.compile(r"[\s.\-_,'’()]+")

# Names people write that ISO 3166 does not carry (its names are "United Kingdom of Great Britain and
# Northern Ireland", "Russian Federation", "Türkiye"...).
COUNTRY_ALIASES = {
    "America": "US", "U.S.": "US", "United States of America": "US",
    "UK": "GB", "Great Britain": "GB", "Britain": "GB", "England": "GB", "Scotland": "GB", "Wales": "GB",
    "Northern Ireland": "GB", "Russia": "RU", "Turkey": "TR", "Korea": "KR", "South Korea": "KR",
    "North Korea": "KP", "Holland": "NL", "Ivory Coast": "CI", "Burma": "MM", "Macedonia": "MK",
    "Swaziland": "SZ", "Cape Verde": "CV", "Laos": "LA", "Syria": "SY", "Vatican": "VA",
    "Czech Republic": "CZ", "US Virgin Islands": "VI", "Virgin Islands": "VI",
}

# USPS codes that are not US subdivisions in ISO 3166: the freely associated states and the military
# "states" (Armed Forces Americas, Europe, Pacific).
USPS_ONLY = {
    "FM": "Federated States of Micronesia", "MH": "Marshall Islands", "PW": "Palau",
    "AA": "Armed Forces Americas", "AE": "Armed Forces Europe", "AP": "Armed Forces Pacific",
}
STATE_ALIASES = {"Washington DC": "DC", "Virgin Islands": "VI", "US Virgin Islands": "VI", "Micronesia": "FM"}


def country_key(text: str) -> str:
    return _NAME_KEY.sub("", text.casefold())


@cache
def _countries() -> dict[str, str]:
    import pycountry

    codes: dict[str, str] = {}
    for country in pycountry.countries:
        for name in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            written = getattr(country, name, None)
            if written:
                codes.setdefault(country_key(written), country.alpha_2)
    codes.update({country_key(name): code for name, code in COUNTRY_ALIASES.items()})
    return codes


def country_code(text: str) -> str | None:
    """The ISO 3166 alpha-2 code of a country written as a code (US, USA) or a name; None if unknown."""
    return _countries().get(country_key(text))


def state_key(text: str) -> str:
    return " ".join(text.casefold().replace(".", "").split())


@cache
def us_states() -> dict[str, str]:
    """US states, DC and territories by name (as state_key writes it) -> USPS code."""
    import pycountry

    names = {state_key(s.name): s.code[3:] for s in pycountry.subdivisions.get(country_code="US")}
    names[state_key("U.S. Virgin Islands")] = "VI"  # ISO writes "Virgin Islands, U.S."
    names.update({state_key(name): code for code, name in USPS_ONLY.items()})
    names.update({state_key(name): code for name, code in STATE_ALIASES.items()})
    return names


@cache
def us_state_codes() -> frozenset[str]:
    return frozenset(us_states().values())


def us_state_code(text: str) -> str | None:
    """The USPS code of a state written as a code ("ma", "N.Y.") or a name; None if not a US state."""
    code = text.upper().replace(".", "").strip()
    return code if code in us_state_codes() else us_states().get(state_key(text))
