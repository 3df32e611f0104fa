"""The organization's participants as the duplicate search reads them: duplicates.py compares records
and knows no database, so the search's child process loads none."""
from __future__ import annotations

from collections.abc import Callable

from app.importer.duplicates import BLOCK_LIMIT, THRESHOLD, DuplicateIndex, Person, participant_person, swapped
from app.models import Participant

# The columns a participant is compared by, in the order participant_person reads them.
PERSON_COLUMNS = [Participant.id, Participant.first_name, Participant.last_name, Participant.date_of_birth,
                  Participant.email_key, Participant.mobile_phone, Participant.home_phone, Participant.work_phone,
                  Participant.postal_code, Participant.street_address]


PARTICIPANT_PAGE = 5_000


def participant_pages(org_id: int, page: int | None = None, *, progress: Callable | None = None):
    """Every participant of the organization as lists of PERSON_COLUMNS tuples, `page` at a time by id:
    psycopg2 fetches a whole result before its first row (a million participants: 267 MB). `progress` is
    told (participants read, participants in all) as each page is done with: a large organization's take
    a while, and a preview's rows stand still meanwhile."""
    of_org, page = Participant.organization == org_id, page or PARTICIPANT_PAGE
    total = Participant.select().where(of_org).count() if progress else 0
    after = read = 0
    while rows := list(Participant.select(*PERSON_COLUMNS).where(of_org & (Participant.id > after))
                       .order_by(Participant.id).limit(page).tuples()):
        yield rows
        read += len(rows)
        if progress:
            progress(read, max(read, total))  # participants added meanwhile are read too
        after = rows[-1][0]


def organization_index(org_id: int, threshold: float = THRESHOLD, *, progress: Callable | None = None) -> DuplicateIndex:
    """Every participant of the organization, filed by blocking key (a few fields each, read once);
    `progress` as participant_pages's."""
    index = DuplicateIndex(threshold)
    for rows in participant_pages(org_id, progress=progress):
        for columns in rows:
            index.add(participant_person(columns))
    return index


def nearby_index(org_id: int, person: Person, threshold: float = THRESHOLD) -> DuplicateIndex:
    """The participants one record may be, found by indexed columns (a row checked again after a fix:
    not the whole organization): its birth date or that date swapped, or its email."""
    index = DuplicateIndex(threshold)
    conditions = []
    if person.born:
        conditions.append(Participant.date_of_birth.in_([d for d in (person.born, swapped(person.born)) if d]))
    if person.email:
        conditions.append(Participant.email_key == person.email)
    if not conditions:
        return index
    near = conditions[0] if len(conditions) == 1 else conditions[0] | conditions[1]
    query = Participant.select(*PERSON_COLUMNS).where((Participant.organization == org_id) & near).limit(BLOCK_LIMIT * 4).tuples()
    for columns in query.iterator():
        index.add(participant_person(columns))
    return index

