"""Every public page passes the W3C Nu HTML Checker (vnu.jar): reading, booking, manage and
error pages, in the states a visitor meets (tests/public_pages.py). The checker and its
helpers are the owner pages' test's (tests/test_owner_html_valid.py)."""

from tests.public_pages import public_pages
from tests.test_owner_html_valid import assert_pages_pass_the_nu_checker


def test_every_public_page_passes_the_nu_html_checker(app, client, visitor, tmp_path):
    assert_pages_pass_the_nu_checker(public_pages(app, client, visitor), tmp_path)
