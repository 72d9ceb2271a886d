"""The article page stays light: its HTML and the stylesheets it links, at most 30 KB."""

import re

from tests.conftest import ARTICLE_SLUG

BUDGET = 30 * 1024  # bytes, uncompressed: issue 10, "Light"
STYLESHEET = re.compile(rb'<link rel="stylesheet" href="(/static/[^"]+)">')


def weight(client, url: str) -> tuple[int, int]:
    """(HTML bytes, CSS bytes) of the page at `url`, as a browser would fetch them."""
    html = client.get(url).data
    css = [
        client.get(href.decode().replace("&amp;", "&")).data for href in STYLESHEET.findall(html)
    ]
    assert css, "the page links no stylesheet"
    return len(html), sum(len(sheet) for sheet in css)


def test_seed_article_with_its_stylesheets_fits_in_30_kb(client):
    html, css = weight(client, f"/library/{ARTICLE_SLUG}")
    print(f"article page: HTML {html} B + CSS {css} B = {html + css} B of {BUDGET}")
    assert html + css <= BUDGET


def test_article_does_not_load_the_article_lists_cards(client):
    html = client.get(f"/library/{ARTICLE_SLUG}").get_data(as_text=True)
    assert "library.css" not in html
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'href="/static/min/css/library\.css\?v=[0-9a-f]{12}"', home)


def test_stylesheets_are_served_without_their_comments(client):
    html = client.get(f"/library/{ARTICLE_SLUG}").get_data(as_text=True)
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)">', html):
        sheet = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
        assert "/*" not in sheet
        assert "\n" not in sheet
