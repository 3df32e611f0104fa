"""Flask commands db backup and db restore (the work is in app/backup.py)."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app import backup
from app.factory import current_config

PATH = click.Path(dir_okay=False, path_type=Path)


@click.command("backup")
@with_appcontext
@click.argument("path", type=PATH)
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def db_backup(path, force):
    """Write a consistent copy of the database to PATH while the app runs (SQLite backup API, or pg_dump -Fc)."""
    settings = current_config()
    try:
        backup.backup(settings.DATABASE_URL, path, force=force)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up the database to {path}.")
    files = backup.stored_files()
    if files:
        click.echo(f"Not in it: the {files} stored upload file(s) in {settings.UPLOAD_DIR} (uploads not yet completed), "
                   "encrypted with ROSTER_FILE_KEY. Back that folder up too, and keep the key apart from both.")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data already.")
def db_restore(path, force):
    """Replace the configured database by a backup made with `db backup` (refuses a database holding data)."""
    try:
        pending = backup.restore(current_config().DATABASE_URL, path, force=force)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored the database from {path}.")
    if pending:
        click.echo(f"The backup predates {len(pending)} migration(s): run `flask --app wsgi db upgrade` next.")


def register_backup_cli(db_cli) -> None:
    db_cli.add_command(db_backup)
    db_cli.add_command(db_restore)
