"""The US subdivisions written out in places.py are pycountry's (ISO 3166-2:US), and are used."""
import pycountry

from app.importer import places


def test_us_subdivisions_are_pycountrys():
    iso = {s.code[3:]: s.name for s in pycountry.subdivisions.get(country_code="US")}
    assert places.US_SUBDIVISIONS == iso


def test_states_by_code_name_and_alias():
    assert places.us_state_code("ma") == "MA"
    assert places.us_state_code("N.Y.") == "NY"
    assert places.us_state_code("massachusetts") == "MA"
    assert places.us_state_code("Virgin Islands, U.S.") == "VI"
    assert places.us_state_code("Washington DC") == "DC"
    assert places.us_state_code("Armed Forces Europe") == "AE"
    assert places.us_state_code("Ontario") is None
