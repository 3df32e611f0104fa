"""Peewee models and the queries the app reuses."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

import peewee as pw
from playhouse.db_url import connect

from app.stored import json_text, json_value

db = pw.DatabaseProxy()

ROLES = {
    "uploader": "Importable files uploader",
    "import_admin": "Importable files admin",
    "org_admin": "Organization admin",
    "coach": "Coach",
}
IMPORT_ROLES = {"uploader", "import_admin"}

PARTICIPANT_STATUSES = {"not_invited": "Not invited", "invited": "Invited"}
DEFAULT_ID_SYSTEM = "MRN"
POOL_SIZE = 32  # PostgreSQL connections a process keeps (a web worker uses one; a preview three)
POOL_STALE_SECONDS = 300


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def display_name(first_name: str | None, last_name: str | None) -> str:
    """The one way a participant's name is shown: "First Last"."""
    if first_name and last_name:  # nearly always: skip the generator (twice a row in a preview)
        return f"{first_name} {last_name}"
    return first_name or last_name or ""


def open_database(url: str) -> pw.Database:
    """Connect the proxy to DATABASE_URL; SQLite gets WAL, foreign keys and a long busy timeout."""
    if url.startswith("sqlite"):
        database = connect(
            url,
            # secure_delete: a destroyed preview's cells are overwritten, not left in free pages (SPEC 14).
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30_000, "synchronous": "normal",
                     "secure_delete": 1, "cache_size": -65536},
            timeout=30,
            # Transactions take the write lock at BEGIN: one that read and then wrote after another
            # connection committed (a worker commits each chunk of a large file) would fail at once
            # with "database is locked" instead of waiting its turn.
            lock_type="IMMEDIATE",
        )
    else:
        # Pooled: a connection per request started a PostgreSQL server process each time (a tenth of a busy
        # web worker's time, and more of the server's); peewee checks a pooled one with a round trip first.
        database = connect(re.sub(r"^postgres(ql)?://", "postgresql+pool://", url), max_connections=POOL_SIZE,
                           stale_timeout=POOL_STALE_SECONDS, timeout=30)
    db.initialize(database)
    return database


def lock_organization(org_id: int) -> None:
    """Inside a transaction: whoever else changes this organization's people waits until it ends.

    For rules over several rows (the last admin, a preview's fingerprint) that each transaction checks
    after its own change. PostgreSQL needs the row lock; a SQLite transaction holds the database's
    write lock from BEGIN already.
    """
    if isinstance(db.obj, pw.PostgresqlDatabase):
        Organization.select(Organization.id).where(Organization.id == org_id).for_update().get()


class JSONField(pw.TextField):
    """JSON kept as text, so SQLite and PostgreSQL store it alike."""

    def db_value(self, value):
        return json_text(value)

    def python_value(self, value):
        return json_value(value)


class BaseModel(pw.Model):
    class Meta:
        database = db
        legacy_table_names = False


class Organization(BaseModel):
    name = pw.CharField(unique=True)
    country = pw.CharField(max_length=2, default="US")
    date_order = pw.CharField(max_length=3, default="MDY")
    time_zone = pw.CharField(max_length=64, default="UTC")  # an IANA name: the times its pages show
    created_at = pw.DateTimeField(default=utcnow)

    @classmethod
    def by_name(cls, name: str) -> "Organization":
        return cls.get(cls.name == name)


class User(BaseModel):
    organization = pw.ForeignKeyField(Organization, backref="users", on_delete="CASCADE")
    email = pw.CharField(unique=True)
    name = pw.CharField()
    password_hash = pw.CharField(default="")
    active = pw.BooleanField(default=True)
    roles = pw.CharField(default="")  # space-separated keys of ROLES
    session_token = pw.CharField(unique=True, default=new_token)
    failed_logins = pw.IntegerField(default=0)  # sign-in attempts not known to be right, since failed_at's window began
    failed_at = pw.DateTimeField(null=True)  # the latest such attempt (the count restarts once it is old)
    locked_until = pw.DateTimeField(null=True)
    last_login_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)

    @property
    def role_set(self) -> set[str]:
        return set(self.roles.split())

    def set_roles(self, roles) -> None:
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"Unknown role(s): {', '.join(sorted(unknown))}. Known: {', '.join(ROLES)}.")
        self.roles = " ".join(sorted(set(roles)))

    def has_role(self, role: str) -> bool:
        return role in self.role_set

    @property
    def can_import(self) -> bool:
        return bool(self.role_set & IMPORT_ROLES)

    @property
    def can_complete_import(self) -> bool:
        return "import_admin" in self.role_set

    @property
    def can_manage_organization(self) -> bool:
        return "org_admin" in self.role_set

    @property
    def can_invite_participants(self) -> bool:
        return bool(self.role_set & {"import_admin", "org_admin"})

    @property
    def status_label(self) -> str:
        if not self.active:
            return "Deactivated"
        return "Active" if self.password_hash else "Invited"

    # flask-login protocol: the id is the session token, so rotating it ends every copied session.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def rotate_session_token(self) -> None:
        self.session_token = new_token()
        self.save(only=[User.session_token])

    @classmethod
    def by_email(cls, email: str) -> "User | None":
        return cls.get_or_none(cls.email == email.strip().lower())

    @classmethod
    def for_org(cls, org: Organization):
        return cls.select().where(cls.organization == org).order_by(cls.name)


class Group(BaseModel):
    organization = pw.ForeignKeyField(Organization, backref="groups", on_delete="CASCADE")
    name = pw.CharField()
    archived = pw.BooleanField(default=False)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "groups"  # "group" is an SQL keyword
        indexes = ((("organization", "name"), True),)

    @classmethod
    def for_org(cls, org: Organization, *, include_archived: bool = False):
        query = cls.select().where(cls.organization == org)
        if not include_archived:
            query = query.where(cls.archived == False)  # noqa: E712
        return query.order_by(cls.name)

    @classmethod
    def with_counts(cls, org: Organization):
        """The organization's groups, each with `participant_count`, in one query."""
        return (
            cls.for_org(org)
            .select_extend(pw.fn.COUNT(ParticipantGroup.id).alias("participant_count"))
            .join(ParticipantGroup, pw.JOIN.LEFT_OUTER)
            .group_by(cls.id)
        )

    def coaches(self):
        return User.select().join(GroupCoach).where(GroupCoach.group == self).order_by(User.name)


class GroupCoach(BaseModel):
    group = pw.ForeignKeyField(Group, backref="team", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, on_delete="CASCADE")

    class Meta:
        indexes = ((("group", "user"), True),)


class IdentificationSystem(BaseModel):
    organization = pw.ForeignKeyField(Organization, backref="id_systems", on_delete="CASCADE")
    name = pw.CharField()

    class Meta:
        indexes = ((("organization", "name"), True),)

    @classmethod
    def for_org(cls, org: Organization):
        return cls.select().where(cls.organization == org).order_by(cls.name)


class Upload(BaseModel):
    organization = pw.ForeignKeyField(Organization, backref="uploads", on_delete="CASCADE")
    uploaded_by = pw.ForeignKeyField(User, on_delete="RESTRICT")
    original_filename = pw.CharField()
    stored_name = pw.CharField(null=True)
    sha256 = pw.CharField(max_length=64)
    size_bytes = pw.IntegerField(default=0)
    target_group = pw.ForeignKeyField(Group, null=True, on_delete="SET NULL")
    status = pw.CharField(index=True)  # app/importer/lifecycle.py sets it, and only it
    failure_reason = pw.TextField(null=True)
    file_issues = JSONField(default=list)
    headers = JSONField(null=True)  # the header row as written, for the issue report
    row_count = pw.IntegerField(null=True)
    created_count = pw.IntegerField(null=True)
    updated_count = pw.IntegerField(null=True)
    unchanged_count = pw.IntegerField(null=True)
    error_count = pw.IntegerField(null=True)
    warning_count = pw.IntegerField(null=True)
    blank_count = pw.IntegerField(null=True)
    progress_done = pw.IntegerField(default=0)
    progress_total = pw.IntegerField(null=True)
    progress_unit = pw.CharField(null=True)  # while reading: None, the rows; or lifecycle.PARTICIPANTS
    processing_step = pw.CharField(null=True)  # while Processing: waiting for or running a read or a completion
    step_at = pw.DateTimeField(null=True)  # when the status or step last changed (the watch's grace)
    refusal = pw.TextField(null=True)  # why the last Complete Import run by a worker was refused
    fingerprint = pw.CharField(null=True)
    # The columns as mapped: [{"header", "field" (key or None), "how"}]; a person's choices while it waits
    # in Needs mapping, then the mapping the preview used (SPEC 10).
    mapping = JSONField(null=True)
    issue_summary = JSONField(null=True)  # [{"kind", "severity", "column", "rows", "label"}]: no values
    replaced_by = pw.ForeignKeyField("self", null=True, on_delete="SET NULL", backref="+")
    skip_error_rows = pw.BooleanField(default=False)
    skipped_count = pw.IntegerField(null=True)
    # Review (SPEC 11, app/importer/review.py): warning kinds accepted for every row, a revision each
    # decision and fix moves on, and what the completion left out and fixed (counts only).
    accepted_kinds = JSONField(null=True)
    review_revision = pw.IntegerField(default=0)
    date_order = pw.CharField(max_length=3, null=True)  # how the preview read day and month, for a fix's check
    excluded_count = pw.IntegerField(null=True)
    fixed_count = pw.IntegerField(null=True)
    undone_at = pw.DateTimeField(null=True)  # Undo Import (SPEC 13, app/importer/undo.py)
    undone_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")
    undo_counts = JSONField(null=True)  # {"deleted", "restored", "memberships", "kept"}: counts only
    undo_closed_at = pw.DateTimeField(null=True)  # when the undo window closed (undo.close_windows)
    uploaded_at = pw.DateTimeField(default=utcnow)
    previewed_at = pw.DateTimeField(null=True)
    completed_at = pw.DateTimeField(null=True)
    completed_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")
    deleted_at = pw.DateTimeField(null=True)
    deleted_by = pw.ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")

    @property
    def has_file_errors(self) -> bool:
        """An issue of the whole file (a required column missing, two columns for one field)."""
        return any(issue["severity"] == "error" for issue in self.file_issues or [])

    @property
    def state(self):
        """What the upload's status allows (lifecycle.State)."""
        from app.importer.lifecycle import State  # lifecycle imports this module

        return State(self)

    def imported_groups(self):
        """The groups this upload's participants belong to, for the links after Complete Import: those it
        created (Participant.created_by_upload) and those its rows matched (UploadRow.participant)."""
        created = Participant.select(Participant.id).where(Participant.created_by_upload == self)
        matched = UploadRow.select(UploadRow.participant).where(
            (UploadRow.upload == self) & UploadRow.participant.is_null(False))
        members = ParticipantGroup.select(ParticipantGroup.group).where(
            ParticipantGroup.participant.in_(created) | ParticipantGroup.participant.in_(matched))
        return Group.select().where(Group.id.in_(members)).order_by(Group.name)

    @classmethod
    def for_org(cls, org: Organization):
        return cls.select().where(cls.organization == org).order_by(cls.uploaded_at.desc(), cls.id.desc())


class SavedMapping(BaseModel):
    """A confirmed column mapping, filed under a file's set of normalised headers (mapping.header_set_key)."""

    organization = pw.ForeignKeyField(Organization, backref="saved_mappings", on_delete="CASCADE")
    header_key = pw.CharField(max_length=64)
    headers = JSONField()  # as written in the file that saved it
    mapping = JSONField()  # header as written -> field key, or None for "Leave out"
    date_order = pw.CharField(max_length=3, null=True)  # MDY or DMY when a person chose it for Date of Birth
    saved_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    saved_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("organization", "header_key"), True),)

    @classmethod
    def for_org(cls, org):
        return cls.select().where(cls.organization == org).order_by(cls.saved_at.desc())


class Participant(BaseModel):
    # No index of its own: the two (organization, ...) indexes below serve it (migration 0002).
    organization = pw.ForeignKeyField(Organization, backref="participants", on_delete="CASCADE", index=False)
    first_name = pw.CharField()
    last_name = pw.CharField()
    date_of_birth = pw.DateField(null=True)
    email = pw.CharField(null=True)
    email_key = pw.CharField(null=True)  # lower(email): case-insensitive matching on both engines
    mobile_phone = pw.CharField(null=True)
    home_phone = pw.CharField(null=True)
    work_phone = pw.CharField(null=True)
    gender = pw.CharField(null=True)
    street_address = pw.CharField(null=True)
    street_address_2 = pw.CharField(null=True)
    city = pw.CharField(null=True)
    state = pw.CharField(null=True)
    postal_code = pw.CharField(null=True)
    country = pw.CharField(null=True)
    note = pw.TextField(null=True)
    primary_coach = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    status = pw.CharField(default="not_invited")
    invited_at = pw.DateTimeField(null=True)
    # The upload and row that created it: a completed upload's rows link to their participants this way
    # (a created row's id is never written back into its wide UploadRow). Indexed together (0003).
    created_by_upload = pw.ForeignKeyField(Upload, null=True, on_delete="SET NULL", backref="+", index=False)
    created_by_row = pw.IntegerField(null=True)
    updated_by_upload = pw.ForeignKeyField(Upload, null=True, on_delete="SET NULL", backref="+")
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("organization", "email_key"), False),
            # date of birth first: the name + date look-up fetches by dates, then compares names.
            (("organization", "date_of_birth", "last_name", "first_name"), False),
            (("created_by_upload", "created_by_row"), False),
        )

    @property
    def status_label(self) -> str:
        return PARTICIPANT_STATUSES.get(self.status, self.status)

    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.last_name)

    @classmethod
    def for_org(cls, org: Organization):
        return cls.select().where(cls.organization == org)

    @classmethod
    def in_group(cls, group: Group):
        return (
            cls.select()
            .join(ParticipantGroup)
            .where(ParticipantGroup.group == group)
            .order_by(cls.last_name, cls.first_name, cls.id)
        )


class ParticipantIdentifier(BaseModel):
    participant = pw.ForeignKeyField(Participant, backref="identifiers", on_delete="CASCADE")
    system = pw.ForeignKeyField(IdentificationSystem, on_delete="RESTRICT", index=False)  # (system, value) serves it
    value = pw.CharField()

    class Meta:
        indexes = ((("system", "value"), True),)


class ParticipantGroup(BaseModel):
    participant = pw.ForeignKeyField(Participant, backref="memberships", on_delete="CASCADE", index=False)  # (participant, group) serves it
    group = pw.ForeignKeyField(Group, backref="memberships", on_delete="RESTRICT")

    class Meta:
        indexes = ((("participant", "group"), True),)


class UploadRow(BaseModel):
    upload = pw.ForeignKeyField(Upload, backref="rows", on_delete="CASCADE", index=False)  # (upload, row_number) serves it
    row_number = pw.IntegerField()
    action = pw.CharField()  # create / update / unchanged / error
    # The participant the row matched (update, unchanged). A participant the row creates is not written
    # back here: Complete Import would rewrite every wide row for it; created_by_upload links them instead.
    participant = pw.ForeignKeyField(Participant, null=True, on_delete="SET NULL", backref="+")
    # While the upload is Pending only (SPEC 14): the imported cells and what the preview made of them.
    display_name = pw.CharField(default="")
    values = JSONField(null=True)  # the imported cells as written, by header; other columns are never stored
    changes = JSONField(null=True)  # [[field label, old, new], ...]
    plan = JSONField(null=True)  # exactly what Complete Import writes for this row
    issues = JSONField(null=True)  # [Issue.to_dict(), ...]: their messages quote cells
    # Kept for the history once the upload is decided: no values.
    issue_kinds = JSONField(null=True)  # [[severity, column as written], ...]
    has_error = pw.BooleanField(default=False)
    has_warning = pw.BooleanField(default=False)
    decision = pw.CharField(max_length=16, null=True)  # a reviewer's: accept (its warnings), exclude; kept after
    fixes = JSONField(null=True)  # header as written -> the cell as a reviewer fixed it, while Pending only

    class Meta:
        indexes = ((("upload", "row_number"), True), (("upload", "action"), False))

    @classmethod
    def has_issue_kind(cls, kind: str):
        """Rows with an issue of this kind: its JSON string among the row's issue_kinds (the pattern is not
        passed through the JSON field, which would encode it a second time)."""
        pattern = f"%{json_text(kind)}%"  # ILIKE: peewee's LIKE is GLOB on SQLite; kinds hold no % or _ that matters
        return pw.Expression(cls.issue_kinds, pw.OP.ILIKE, pw.Value(pattern, converter=False))

    @classmethod
    def participants_of(cls, upload, rows) -> dict[int, "Participant"]:
        """Row number -> the participant the row updated or created (with its current name)."""
        numbers = [row.row_number for row in rows]
        matched = {row.participant_id: row.row_number for row in rows if row.participant_id}
        found = Participant.select(Participant.id, Participant.first_name, Participant.last_name,
                                   Participant.created_by_row).where(
            Participant.id.in_(list(matched))
            | ((Participant.created_by_upload == upload) & Participant.created_by_row.in_(numbers)))
        return {matched.get(p.id, p.created_by_row): p for p in found}

    @classmethod
    def destroy_values(cls, upload) -> int:
        """Destroy what the upload's rows hold of the file (cells, names, plans, messages), keeping row
        number, action, participant and issue kinds; call it in the transaction that decides the upload."""
        return (cls.update(values=None, changes=None, plan=None, issues=None, fixes=None, display_name="")
                .where(cls.upload == upload).execute())


class ImportChange(BaseModel):
    """What one Complete Import changed in a participant it updated, kept for its undo window (SPEC 13):
    the fields (before and after), and the memberships and Patient ID it added. A participant it created
    says so itself (Participant.created_by_upload)."""

    upload = pw.ForeignKeyField(Upload, backref="+", on_delete="CASCADE", index=False)  # (upload, participant)
    participant = pw.ForeignKeyField(Participant, backref="+", on_delete="CASCADE")
    before = JSONField(null=True)  # field -> the value before the import (dates as ISO text)
    after = JSONField(null=True)  # field -> the value the import wrote
    groups = JSONField(null=True)  # group ids the import added an updated participant to
    identifier = JSONField(null=True)  # [system id, value] the import added to an updated participant

    class Meta:
        indexes = ((("upload", "participant"), True),)


class AuditEvent(BaseModel):
    """Append-only: the code has no path that updates or deletes an event."""

    organization = pw.ForeignKeyField(Organization, null=True, on_delete="CASCADE", backref="+")
    user = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    action = pw.CharField(index=True)
    object_type = pw.CharField(null=True)
    object_id = pw.IntegerField(null=True)
    details = JSONField(null=True)  # counts and choices, never cell values
    ip = pw.CharField(null=True)
    created_at = pw.DateTimeField(default=utcnow, index=True)

    @classmethod
    def for_org(cls, org: Organization):
        return cls.select().where(cls.organization == org).order_by(cls.created_at.desc(), cls.id.desc())

    def save(self, *args, **kwargs):
        if self.id is not None:
            raise PermissionError("Audit events are append-only.")
        return super().save(*args, **kwargs)

    def delete_instance(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")

    @classmethod
    def update(cls, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")

    @classmethod
    def delete(cls):
        raise PermissionError("Audit events are append-only.")


class Invitation(BaseModel):
    """A one-time, expiring link for an invited user to set a password; only the token's hash is kept."""

    user = pw.ForeignKeyField(User, backref="invitations", on_delete="CASCADE")
    token_hash = pw.CharField(max_length=64, unique=True)
    invited_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    used_at = pw.DateTimeField(null=True)


class SchemaMigration(BaseModel):
    name = pw.CharField(unique=True)
    applied_at = pw.DateTimeField(default=utcnow)


MODELS = [
    Organization,
    User,
    Group,
    GroupCoach,
    IdentificationSystem,
    Upload,
    SavedMapping,
    Participant,
    ParticipantIdentifier,
    ParticipantGroup,
    UploadRow,
    ImportChange,
    AuditEvent,
    Invitation,
]
