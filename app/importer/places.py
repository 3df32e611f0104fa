"""Countries and US states as people write them: ISO 3166 codes and names (pycountry), USPS codes.

pycountry takes ~80 ms to load its countries, so they are built on first use: only a file with a
Country column pays for them. Its subdivisions take 0.15 s more, for the 57 US ones every State column
needs: those are written out below (US_SUBDIVISIONS), and a test checks them against pycountry.
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

# ISO 3166-2:US, as pycountry has it (tests/importer/test_places.py compares the two).
US_SUBDIVISIONS = {
    "AK": "Alaska", "AL": "Alabama", "AR": "Arkansas", "AS": "American Samoa", "AZ": "Arizona", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DC": "District of Columbia", "DE": "Delaware", "FL": "Florida",
    "GA": "Georgia", "GU": "Guam", "HI": "Hawaii", "IA": "Iowa", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana",
    "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "MA": "Massachusetts", "MD": "Maryland", "ME": "Maine",
    "MI": "Michigan", "MN": "Minnesota", "MO": "Missouri", "MP": "Northern Mariana Islands", "MS": "Mississippi",
    "MT": "Montana", "NC": "North Carolina", "ND": "North Dakota", "NE": "Nebraska", "NH": "New Hampshire",
    "NJ": "New Jersey", "NM": "New Mexico", "NV": "Nevada", "NY": "New York", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "PR": "Puerto Rico", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UM": "United States Minor Outlying Islands", "UT": "Utah",
    "VA": "Virginia", "VI": "Virgin Islands, U.S.", "VT": "Vermont", "WA": "Washington", "WI": "Wisconsin",
    "WV": "West Virginia", "WY": "Wyoming",
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
    names = {state_key(name): code for code, name in US_SUBDIVISIONS.items()}
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
