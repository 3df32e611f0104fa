"""Drop the single-column indexes that a composite index starting with the same column already serves.

Each cost an index entry per row written on the import's hot path (participants, memberships, Patient
IDs, preview rows) and answered no query the composite cannot: (organization, ...) for participant,
(participant, group) for participant_group, (system, value) for participant_identifier, and
(upload, row_number) for upload_row.
"""
from playhouse.migrate import migrate

COVERED = [
    ("participant", "participant_organization_id"),
    ("participant_group", "participant_group_participant_id"),
    ("participant_identifier", "participant_identifier_system_id"),
    ("upload_row", "upload_row_upload_id"),
]


def up(migrator):
    migrate(*(migrator.drop_index(table, index) for table, index in COVERED))
