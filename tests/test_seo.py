"""Sitemap, Atom feed and robots.txt."""

import xml.etree.ElementTree as ET

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
ATOM_NS = {"a": "http://www.w3.org/2005/Atom"}
ARTICLE = "https://example.test/library/ai-systems-architect-vs-ai-engineer"
TOPIC = "https://example.test/library/topics/ai-systems-architecture"


def test_sitemap_lists_articles_and_topics_with_last_modified_dates(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    entries = {
        url.findtext("s:loc", namespaces=SITEMAP_NS): url.findtext(
            "s:lastmod", namespaces=SITEMAP_NS
        )
        for url in root.findall("s:url", SITEMAP_NS)
    }
    assert entries[ARTICLE] == "2026-06-01"
    assert entries[TOPIC] == "2026-06-01"
    assert "https://example.test/" in entries


def test_feed_is_atom_with_the_article_entry(client):
    response = client.get("/feed.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    entry = root.find("a:entry", ATOM_NS)
    assert entry.findtext("a:title", namespaces=ATOM_NS) == (
        "AI Systems Architect vs AI Engineer: What's the Difference?"
    )
    assert entry.findtext("a:id", namespaces=ATOM_NS) == ARTICLE
    assert entry.findtext("a:published", namespaces=ATOM_NS) == "2025-04-01T00:00:00+00:00"
    assert entry.findtext("a:updated", namespaces=ATOM_NS) == "2026-06-01T00:00:00+00:00"
    assert entry.find("a:author/a:name", ATOM_NS).text == "Saed Shafane"
    content = entry.findtext("a:content", namespaces=ATOM_NS)
    assert '<h2 id="frequently-asked-questions">Frequently Asked Questions</h2>' in content
    assert root.findtext("a:updated", namespaces=ATOM_NS) == "2026-06-01T00:00:00+00:00"


def test_robots_names_the_sitemap_and_keeps_private_pages_out(client):
    response = client.get("/robots.txt")
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    assert "Sitemap: https://example.test/sitemap.xml" in body
    assert "Disallow: /owner/" in body
    assert "Disallow: /booking/" in body


def test_pages_link_to_the_feed(client):
    html = client.get("/").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in html


def test_security_txt_says_where_to_report_a_vulnerability(client):
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    fields = dict(line.split(": ", 1) for line in response.get_data(as_text=True).splitlines())
    assert fields["Contact"].startswith("mailto:")
    assert fields["Expires"].endswith("Z")
    assert fields["Canonical"] == "https://example.test/.well-known/security.txt"
