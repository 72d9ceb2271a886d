"""Every public page passes the W3C Nu HTML Checker (vnu.jar): reading, booking, manage and
error pages, in the states a visitor meets (tests/public_pages.py). The checker and its
helpers are the owner pages' test's (tests/test_owner_html_valid.py)."""

from tests.public_pages import public_pages
from tests.test_owner_html_valid import check_html


def test_every_public_page_passes_the_nu_html_checker(app, client, visitor, tmp_path):
    files = []
    for label, (html, _status) in public_pages(app, client, visitor).items():
        path = tmp_path / f"{label}.html"
        path.write_text(html, encoding="utf-8")
        files.append(path)
    errors = check_html(files)
    report = "\n".join(
        f"{name}:\n  " + "\n  ".join(lines) for name, lines in sorted(errors.items())
    )
    assert not errors, f"The Nu HTML Checker found errors:\n{report}"
