"""`flask content check`: validate every article file without starting the site."""

import click
from flask import current_app
from flask.cli import AppGroup

from domain.content.library import ContentError, load_library

content_cli = AppGroup("content", help="Article content commands.")


@content_cli.command("check")
def check_content():
    """Parse every article and report the first problem, naming the file and field."""
    directory = current_app.config["CONTENT_DIR"]
    try:
        library = load_library(directory, current_app.static_folder)
    except ContentError as error:
        raise click.ClickException(str(error)) from error
    for article in library.articles:
        click.echo(f"ok  {article.slug}  ({article.reading_minutes} min read, {article.topic})")
    click.echo(f"{len(library.articles)} article(s) in {len(library.topics)} topic(s) are valid.")
