"""`flask owner create EMAIL`: create the owner's account, or reset its password."""

import sys

import click
from flask.cli import AppGroup

from blueprints.owner.fake_leads import fake_leads_cli
from domain.owners import create_or_reset_owner
from domain.passwords import password_problem
from extensions import db

owner_cli = AppGroup("owner", help="The owner's account.")
owner_cli.add_command(fake_leads_cli)


@owner_cli.command("create")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create(email: str, password_stdin: bool):
    """Create the owner (or reset the password); ends every open session."""
    if "@" not in email:
        raise click.BadParameter("give the owner's email address", param_hint="EMAIL")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password)
    if problem:
        raise click.ClickException(problem)
    owner = create_or_reset_owner(db.session, email, password)
    db.session.commit()
    click.echo(f"Owner {owner.email} is ready; log in at /owner/login.")
