"""Each public page's <title> names the site once, after the page's own name if it has one."""

import html
import re

from tests.public_pages import public_pages

SITE_NAME = "Saed Shafane · Intelligence Library"


def title_of(page: str) -> str:
    found = re.findall(r"<title>(.*?)</title>", page, flags=re.S)
    assert len(found) == 1, found
    return html.unescape(found[0])


def test_every_public_page_names_the_site_once(app, client, visitor):
    titles = {
        label: title_of(page) for label, (page, _) in public_pages(app, client, visitor).items()
    }
    for label, title in titles.items():
        assert title.endswith(SITE_NAME), (label, title)
        assert title.count("Intelligence Library") == 1, (label, title)
        assert title.count("Saed Shafane") == 1, (label, title)


def test_home_title_is_the_site_and_an_article_puts_its_own_title_first(app, client, visitor):
    pages = public_pages(app, client, visitor)
    assert title_of(pages["home"][0]) == SITE_NAME
    assert title_of(pages["article"][0]) == (
        f"AI Systems Architect vs AI Engineer: What's the Difference? · {SITE_NAME}"
    )
    assert title_of(pages["error-404"][0]) == f"Page not found · {SITE_NAME}"
