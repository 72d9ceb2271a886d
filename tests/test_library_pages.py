"""The library, article and topic pages as a reader (and a search engine) sees them."""

import json
import re
from html.parser import HTMLParser

import pytest

ARTICLE_URL = "/library/ai-systems-architect-vs-ai-engineer"

SECTION_HEADINGS = [
    "What Is an AI Systems Architect?",
    "What Is an AI Engineer?",
    "Side-by-Side Comparison",
    "Why Businesses Need Both",
    "When to Hire Each Role",
    "The Rise of Intelligence-Native Companies",
    "Frequently Asked Questions",
    "Conclusion",
]

# (responsibility, architect mark, engineer mark) as PRODUCT.md reads the table.
COMPARISON_ROWS = [
    ("Strategic Design", "Full", "Limited"),
    ("Infrastructure Planning", "Full", "Partial"),
    ("Model Development", "Limited", "Full"),
    ("Workflow Design", "Full", "Partial"),
    ("Agent Orchestration", "Full", "Partial"),
    ("Revenue Architecture", "Full", "Rare"),
    ("Implementation", "Partial", "Full"),
    ("Cross-Dept. Alignment", "Full", "Limited"),
]

FAQ_QUESTIONS = [
    "Is an AI Systems Architect the same as an AI Engineer?",
    "Which role is more strategic?",
    "Do startups need an AI Systems Architect?",
    "Can one person perform both roles?",
    "How does an AI Systems Architect work with engineering teams?",
]


class PageOutline(HTMLParser):
    """Collects headings, table rows, landmarks and JSON-LD blocks with their visible text."""

    def __init__(self):
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.rows: list[list[str]] = []
        self.tags: list[str] = []
        self.json_ld: list[dict] = []
        self._heading = None
        self._row = None
        self._cell = None
        self._in_json = False
        self._aria_hidden_depth = 0
        self._stack: list[bool] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        hidden = attrs.get("aria-hidden") == "true"
        if tag not in {"meta", "link", "br", "img", "input"}:
            self._stack.append(hidden)
            self._aria_hidden_depth += hidden
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]
        elif tag == "tr":
            self._row = []
        elif tag in {"td", "th"} and self._row is not None:
            self._cell = ""
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._in_json = True
            self._json_text = ""

    def handle_endtag(self, tag):
        if tag not in {"meta", "link", "br", "img", "input"} and self._stack:
            self._aria_hidden_depth -= self._stack.pop()
        if self._heading and re.fullmatch(r"h[1-6]", tag):
            self.headings.append((self._heading[0], " ".join(self._heading[1].split())))
            self._heading = None
        elif tag in {"td", "th"} and self._cell is not None:
            self._row.append(" ".join(self._cell.split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "script" and self._in_json:
            self.json_ld.append(json.loads(self._json_text))
            self._in_json = False

    def handle_data(self, data):
        if self._in_json:
            self._json_text += data
            return
        if self._aria_hidden_depth:
            return  # what a screen reader would not announce
        if self._heading:
            self._heading[1] += data
        if self._cell is not None:
            self._cell += data


def outline(response) -> PageOutline:
    parser = PageOutline()
    parser.feed(response.get_data(as_text=True))
    return parser


@pytest.fixture
def article_page(client):
    response = client.get(ARTICLE_URL)
    assert response.status_code == 200
    return response


def test_library_lists_the_seed_article_and_its_topic(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'href="{ARTICLE_URL}"' in html
    assert "AI Systems Architect vs AI Engineer: What&#39;s the Difference?" in html
    assert 'href="/library/topics/ai-systems-architecture"' in html
    assert "6 min read" in html


def test_article_head_shows_topic_reading_time_dates_and_author(article_page):
    html = article_page.get_data(as_text=True)
    assert "← Intelligence Library" in html
    assert ">AI Systems Architecture</a>" in html
    assert "6 min read" in html
    assert 'datetime="2025-04-01">April 2025</time>' in html
    assert 'datetime="2026-06-01">June 2026</time>' in html
    assert "Published" in html and "Updated" in html
    assert 'By <span class="author">Saed Shafane</span>' in html
    assert "An AI Engineer builds components. An AI Systems Architect designs" in html
    assert "Many organisations confuse these two roles." in html


def test_article_has_one_h1_and_every_section_in_order(article_page):
    headings = outline(article_page).headings
    assert [text for level, text in headings if level == 1] == [
        "AI Systems Architect vs AI Engineer: What's the Difference?"
    ]
    h2s = [text for level, text in headings if level == 2]
    assert [h for h in h2s if h in SECTION_HEADINGS] == SECTION_HEADINGS
    levels = [level for level, _ in headings]
    assert all(after - before <= 1 for before, after in zip(levels, levels[1:], strict=False))


def test_comparison_table_has_eight_rows_with_marks_a_screen_reader_can_read(article_page):
    rows = outline(article_page).rows
    assert rows[0] == ["Responsibility", "AI Systems Architect", "AI Engineer"]
    assert [tuple(row) for row in rows[1:]] == COMPARISON_ROWS


def test_engineer_focus_areas_and_failure_modes_are_all_there(article_page):
    html = article_page.get_data(as_text=True)
    for focus in [
        "Model Implementation",
        "Prompt Engineering",
        "Fine-Tuning",
        "API Integration",
        "ML Pipelines",
        "Capability Building",
    ]:
        assert f"<dt>{focus}</dt>" in html
    assert "Without an AI Systems Architect" in html
    assert "Technical debt accumulates faster than value is delivered" in html


def test_both_hire_when_lists_are_numbered_lists_of_six(article_page):
    html = article_page.get_data(as_text=True)
    for engagement in ("architect", "engineer"):
        section = re.search(
            rf'<section class="hire-when" data-engagement="{engagement}">(.*?)</section>',
            html,
            re.S,
        ).group(1)
        assert section.count("<li>") == 6
        assert "<ol>" in section
    assert "<li>Scaling AI across multiple departments simultaneously</li>" in html
    assert "<li>Scope is bounded to a single capability or system</li>" in html


def test_faq_questions_are_on_the_page_as_headings_without_faqpage_json_ld(article_page):
    """The questions are read on the page. No FAQPage block: Google shows FAQ results only
    for government and health sites since 2023, and its 2.5 KB broke the page's budget."""
    parsed = outline(article_page)
    h3s = [text for level, text in parsed.headings if level == 3]
    assert [q for q in h3s if q in FAQ_QUESTIONS] == FAQ_QUESTIONS
    assert "FAQPage" not in {block["@type"] for block in parsed.json_ld}


def test_article_json_ld_names_the_author_as_a_person_with_dates(article_page):
    blocks = {block["@type"]: block for block in outline(article_page).json_ld}
    article = blocks["Article"]
    assert article["headline"] == "AI Systems Architect vs AI Engineer: What's the Difference?"
    assert article["author"] == {
        "@type": "Person",
        "name": "Saed Shafane",
        "url": "https://example.test/",
    }
    assert article["datePublished"] == "2025-04-01T00:00:00+00:00"
    assert article["dateModified"] == "2026-06-01T00:00:00+00:00"
    crumbs = blocks["BreadcrumbList"]["itemListElement"]
    assert [c["name"] for c in crumbs] == [
        "Intelligence Library",
        "AI Systems Architecture",
        article["headline"],
    ]
    assert crumbs[2]["item"] == "https://example.test" + ARTICLE_URL


def test_article_head_carries_search_and_social_tags(article_page):
    html = article_page.get_data(as_text=True)
    assert "<title>AI Systems Architect vs AI Engineer: What&#39;s the Difference? ·" in html
    assert '<meta name="description" content="An AI Engineer builds components;' in html
    assert f'<link rel="canonical" href="https://example.test{ARTICLE_URL}">' in html
    assert '<meta property="og:type" content="article">' in html
    assert f'<meta property="og:url" content="https://example.test{ARTICLE_URL}">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html


def test_topic_link_and_call_to_action_point_where_they_should(article_page):
    html = article_page.get_data(as_text=True)
    assert re.search(
        r'<a class="topic-link" href="/library/topics/ai-systems-architecture">'
        r"Explore AI Systems Architecture →</a>",
        html,
    )
    cta = re.search(r'<aside class="cta.*?</aside>', html, re.S).group(0)
    assert "Next step" in cta
    assert "Architect a System" in cta
    assert "book an AI strategy conversation with Saed Shafane" in cta
    assert 'href="/book?article=ai-systems-architect-vs-ai-engineer"' in cta


def test_conclusion_is_rendered_in_full(article_page):
    html = article_page.get_data(as_text=True)
    assert "They will design systems." in html
    assert "and the reason most AI investments underdeliver despite excellent engineering." in html


def test_article_page_uses_semantic_landmarks(article_page):
    tags = outline(article_page).tags
    for landmark in ("header", "nav", "main", "article", "footer"):
        assert landmark in tags


def test_topic_page_lists_its_articles(client):
    response = client.get("/library/topics/ai-systems-architecture")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>AI Systems Architecture</h1>" in html
    assert f'href="{ARTICLE_URL}"' in html


@pytest.mark.parametrize(
    "url", ["/library/no-such-article", "/library/topics/no-such-topic", "/nowhere"]
)
def test_unknown_pages_get_the_sites_own_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "We couldn’t find that page" in html
    assert 'href="/"' in html


def test_server_error_gets_the_sites_own_500(app):
    @app.get("/explode")
    def explode():
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/explode")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)


def test_article_answers_a_conditional_request_with_304(client):
    first = client.get(ARTICLE_URL)
    assert first.headers["ETag"]
    again = client.get(ARTICLE_URL, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""
    changed = client.get(ARTICLE_URL, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


def test_pages_carry_strict_security_headers(article_page):
    csp = article_page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert article_page.headers["X-Content-Type-Options"] == "nosniff"
    assert article_page.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(client):
    for url in ("/", ARTICLE_URL, "/library/topics/ai-systems-architecture", "/missing"):
        html = client.get(url).get_data(as_text=True)
        scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
        assert all('type="application/ld+json"' in attrs for attrs in scripts), url
        assert " style=" not in html and "<style" not in html, url
