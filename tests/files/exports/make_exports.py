"""Writes the export layouts beside this file: each the header row a practice system, CRM or warehouse
writes, three patients, and the mapping a person would choose (EXPECTED, field key or None)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEOPLE = [("Ann", "Lee", "1980-01-02", "ann@mail.org", "617-555-0101", "00123"),
          ("Bo", "Ray", "1975-11-30", "bo@mail.org", "617-555-0102", "00124"),
          ("Cy", "Park", "1990-06-15", "", "617-555-0103", "00125")]

# name: (delimiter, [(header, field key or None, value maker)])
LAYOUTS = {
    "athena_style": (",", [("Patient First Name", "first_name"), ("Patient Last Name", "last_name"),
                           ("DOB (MM/DD/YYYY)", "date_of_birth"), ("Cell Phone", "mobile_phone"),
                           ("E-mail Address", "email"), ("MRN #", "patient_id"), ("PCP", None), ("SSN", None)]),
    "warehouse_snake": (",", [("PAT_FIRST_NAME", "first_name"), ("PAT_LAST_NAME", "last_name"), ("PAT_DOB", "date_of_birth"),
                              ("PAT_EMAIL", "email"), ("PAT_MRN_ID", "patient_id"), ("PAT_ZIP", "postal_code"),
                              ("PAT_RACE", None), ("LOAD_DTTM", None)]),
    "crm_given_family": (",", [("Given Name", "first_name"), ("Family Name", "last_name"), ("Birthdate", "date_of_birth"),
                               ("Email Address", "email"), ("Mobile", "mobile_phone"), ("Account Number", "patient_id"),
                               ("Mailing Address", "street_address"), ("Town", "city")]),
    "spanish": (",", [("Nombre", "first_name"), ("Apellido", "last_name"), ("Fecha de nacimiento", "date_of_birth"),
                      ("Correo electrónico", "email"), ("Teléfono", "mobile_phone"), ("Dirección", "street_address"),
                      ("Ciudad", "city"), ("Código postal", "postal_code")]),
    "ehr_pipe": ("|", [("PatientID", "patient_id"), ("LastName", "last_name"), ("FirstName", "first_name"),
                       ("DateOfBirth", "date_of_birth"), ("Sex", "gender"), ("HomePhone", "home_phone"),
                       ("Address1", "street_address"), ("Address2", "street_address_2")]),
    "glued_lowercase": (",", [("patientfirstname", "first_name"), ("patientlastname", "last_name"), ("patientdob", "date_of_birth"),
                              ("emailaddress", "email"), ("zipcode", "postal_code"), ("mrn", "patient_id"),
                              ("county", None), ("state", "state")]),
    "annotated": (",", [("First Name (legal)", "first_name"), ("Last Name (legal)", "last_name"),
                        ("Date of Birth (YYYY-MM-DD)", "date_of_birth"), ("Phone (cell)", "mobile_phone"),
                        ("Phone (home)", "home_phone"), ("Notes [internal]", "note"), ("Medical Record No.", "patient_id"),
                        ("Preferred Language", None)]),
    "member_roster": (";", [("Member ID", "patient_id"), ("Member First", "first_name"), ("Member Last", "last_name"),
                            ("Member DOB", "date_of_birth"), ("Member Email", "email"), ("Program", "group"),
                            ("Health Coach", "primary_coach"), ("Plan", None)]),
    "camel_case": ("\t", [("firstName", "first_name"), ("lastName", "last_name"), ("birthDate", "date_of_birth"),
                          ("emailAddress", "email"), ("mobilePhone", "mobile_phone"), ("postalCode", "postal_code"),
                          ("countryCode", "country"), ("middleName", None)]),
    "upper_short": (",", [("FNAME", "first_name"), ("LNAME", "last_name"), ("DOB", "date_of_birth"), ("ST", "state"),
                          ("ZIP", "postal_code"), ("CHART #", "patient_id"), ("SEX", "gender"), ("AGE", None)]),
    "registry_export": (",", [("Person ID", "patient_id"), ("Person First Name", "first_name"),
                              ("Person Last Name", "last_name"), ("Person Birth Date", "date_of_birth"),
                              ("Street", "street_address"), ("City", "city"), ("State/Province", "state"),
                              ("Country", "country")]),
    "clinic_signup": (",", [("First", "first_name"), ("Last", "last_name"), ("Birthday", "date_of_birth"),
                            ("Email", "email"), ("Work Phone", "work_phone"), ("Site", "group"), ("Comments", "note"),
                            ("Ethnicity", None)]),
}


def value(field: str | None, person: tuple) -> str:
    first, last, born, email, phone, mrn = person
    return {"first_name": first, "last_name": last, "date_of_birth": born, "email": email, "mobile_phone": phone,
            "home_phone": phone, "work_phone": phone, "patient_id": mrn, "gender": "F", "postal_code": "02134",
            "state": "MA", "city": "Boston", "country": "US", "street_address": "1 Main St", "street_address_2": "Apt 2",
            "group": "Diabetes Prevention", "primary_coach": "coach@demo.example", "note": "call after 5"}.get(
        field, "x-" + first)


def main() -> None:
    expected = {}
    for name, (delimiter, columns) in LAYOUTS.items():
        with open(HERE / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow([header for header, _ in columns])
            for person in PEOPLE:
                writer.writerow([value(field, person) for _, field in columns])
        expected[name] = {header: field for header, field in columns}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
