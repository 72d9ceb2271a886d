"""`flask owner …`: create the account or reset its password, lift the login limits, and
turn two-factor sign-in off for an owner who lost the phone and the recovery codes."""

import sys

import click
from flask.cli import AppGroup

from blueprints.owner.fake_leads import fake_leads_cli
from domain.accounts.login_attempts import clear_limits
from domain.accounts.owners import create_or_reset_owner, end_sessions, owner_by_email
from domain.accounts.passwords import password_problem
from domain.accounts.two_factor import turn_off
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


@owner_cli.command("unlock")
def unlock():
    """Lift every login limit (per address, per account, per device, codes)."""
    cleared = clear_limits(db.session)
    db.session.commit()
    click.echo(
        f"Cleared {cleared.attempts} failed login attempt(s) from {cleared.addresses} "
        "address(es); every login limit is lifted."
    )


@owner_cli.command("2fa-reset")
@click.argument("email")
def two_factor_reset(email: str):
    """Turn two-factor sign-in off for EMAIL, delete its recovery codes, end its sessions."""
    owner = owner_by_email(db.session, email)
    if owner is None:
        raise click.ClickException(f"No owner with the email {email!r}.")
    turn_off(db.session, owner)
    end_sessions(owner)
    db.session.commit()
    click.echo(
        f"Two-factor sign-in is off for {owner.email}; recovery codes deleted; every session "
        "ended. Log in with the password and set it up again at /owner/security."
    )
