"""Operators' parity with the web: users invite, groups create/rename/archive, id-systems add/rename."""
from __future__ import annotations

from app.models import AuditEvent, Group, IdentificationSystem, Invitation, Organization, User


def demo():
    return Organization.by_name("Demo Clinic")


def test_users_invite_sends_the_invitation_email(app, runner):
    result = runner.invoke(args=["users", "invite", "--org", "Demo Clinic", "--email", "cli@demo.example",
                                 "--name", "Cli Person", "--role", "uploader"])
    assert result.exit_code == 0, result.output
    assert "Invited cli@demo.example to Demo Clinic" in result.output
    user = User.by_email("cli@demo.example")
    assert user.role_set == {"uploader"} and user.status_label == "Invited"
    assert Invitation.select().where(Invitation.user == user).count() == 1
    body = next(app.config["ROSTER"].MAIL_DIR.glob("*.eml")).read_text()
    assert "http://127.0.0.1:5000/users/invitation?token=" in body
    assert AuditEvent.get(AuditEvent.action == "user_invited").user is None


def test_users_invite_refuses_an_existing_email(runner):
    result = runner.invoke(args=["users", "invite", "--org", "Demo Clinic", "--email", "admin@demo.example"])
    assert result.exit_code != 0 and "already has a Roster account" in result.output


def test_groups_create_rename_archive_and_restore(runner):
    assert runner.invoke(args=["groups", "create", "--org", "Demo Clinic", "--name", "Heart"]).exit_code == 0
    result = runner.invoke(args=["groups", "rename", "--org", "Demo Clinic", "--name", "Heart", "--to", "Heart Health"])
    assert result.exit_code == 0 and 'Renamed "Heart" to "Heart Health"' in result.output
    assert runner.invoke(args=["groups", "archive", "--org", "Demo Clinic", "--name", "Heart Health"]).exit_code == 0
    group = Group.get((Group.organization == demo()) & (Group.name == "Heart Health"))
    assert group.archived
    assert "Heart Health\t0\tarchived" in runner.invoke(args=["groups", "list", "--org", "Demo Clinic"]).output
    runner.invoke(args=["groups", "archive", "--org", "Demo Clinic", "--name", "Heart Health", "--restore"])
    assert not Group.get_by_id(group.id).archived


def test_groups_create_refuses_a_duplicate_and_unknown_org(runner):
    result = runner.invoke(args=["groups", "create", "--org", "Demo Clinic", "--name", "hypertension"])
    assert result.exit_code != 0 and "exists already" in result.output
    result = runner.invoke(args=["groups", "create", "--org", "Nowhere", "--name", "X"])
    assert result.exit_code != 0 and "No organization named Nowhere" in result.output


def test_id_systems_add_and_rename(runner):
    assert runner.invoke(args=["id-systems", "add", "--org", "Demo Clinic", "--name", "Medicaid"]).exit_code == 0
    result = runner.invoke(args=["id-systems", "rename", "--org", "Demo Clinic", "--name", "Medicaid", "--to", "Medicaid ID"])
    assert result.exit_code == 0
    assert runner.invoke(args=["id-systems", "list", "--org", "Demo Clinic"]).output.split() == ["MRN", "Medicaid", "ID"]
    result = runner.invoke(args=["id-systems", "rename", "--org", "Demo Clinic", "--name", "MRN", "--to", "Chart"])
    assert result.exit_code != 0 and "keeps its name" in result.output
    assert IdentificationSystem.select().where(IdentificationSystem.name == "Medicaid ID").count() == 1
