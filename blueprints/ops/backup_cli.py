"""`flask backup create PATH` and `flask backup restore PATH`: safe while the site runs."""

from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask.cli import AppGroup

from domain.platform.backups import BackupError, create_backup, restore_backup, schema_revision
from extensions import db, migrate

backup_cli = AppGroup("backup", help="Back up the database, or restore a backup.")


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def create(path: Path) -> None:
    """Write a consistent copy of the database to PATH (a new file)."""
    try:
        report = create_backup(db.engine, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Backup written to {report.path} ({report.size:,} bytes, schema {report.revision})."
    )


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
def restore(path: Path, yes: bool) -> None:
    """Replace everything in the database with the backup at PATH."""
    if not yes:
        click.confirm(
            f"Replace everything in {db.engine.url.render_as_string()} with {path}?", abort=True
        )
    try:
        restore_backup(db.engine, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    revision = schema_revision(db.engine)
    click.echo(f"Restored {path} (schema {revision}).")
    head = current_head()
    if revision != head:
        click.echo(f"The backup's schema is older than this code's ({head}): run flask db upgrade.")


def current_head() -> str | None:
    return ScriptDirectory.from_config(migrate.get_config()).get_current_head()
