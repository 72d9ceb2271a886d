"""Content loading: front matter, slugs, reading time, topics, and what the body yields."""

from datetime import date

import pytest

from domain.content.library import (
    ContentError,
    load_article,
    load_library,
    reading_minutes,
    slugify,
)
from tests.conftest import copy_seed

VALID_FRONT_MATTER = {
    "title": "A Title",
    "subtitle": "A subtitle",
    "topic": "AI Strategy",
    "author": "Saed Shafane",
    "published": "2026-01-05",
    "updated": "2026-02-01",
    "description": "What the article is about.",
}


def write_article(folder, slug="an-article", body="## Heading\n\nSome words here.\n", **fields):
    meta = {**VALID_FRONT_MATTER, **fields}
    lines = [
        f"{key}: {value!r}" if isinstance(value, str) else f"{key}: {value}"
        for key, value in meta.items()
        if value is not None
    ]
    path = folder / f"{slug}.md"
    path.write_text("---\n" + "\n".join(lines) + "\n---\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "missing", ["title", "subtitle", "topic", "author", "description", "published"]
)
def test_missing_required_field_is_named_with_the_file(content_dir, missing):
    write_article(content_dir, slug="broken-article", **{missing: None})
    with pytest.raises(ContentError) as error:
        load_library(content_dir)
    assert "broken-article.md" in str(error.value)
    assert f"'{missing}'" in str(error.value)


def test_unparseable_date_names_the_field(content_dir):
    write_article(content_dir, published="April 2025")
    with pytest.raises(ContentError, match=r"an-article\.md: field 'published'"):
        load_library(content_dir)


def test_updated_before_published_is_refused(content_dir):
    write_article(content_dir, published="2026-03-01", updated="2026-01-01")
    with pytest.raises(ContentError, match="'updated' is earlier"):
        load_library(content_dir)


def test_invalid_yaml_names_the_file(content_dir):
    (content_dir / "bad-yaml.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    with pytest.raises(ContentError, match=r"bad-yaml\.md: front matter is not valid YAML"):
        load_library(content_dir)


def test_file_name_must_be_a_slug(content_dir):
    write_article(content_dir, slug="Not A Slug")
    with pytest.raises(ContentError, match="file name must be a slug"):
        load_library(content_dir)


def test_level_one_heading_in_body_is_refused_because_the_page_has_one_h1(content_dir):
    write_article(content_dir, body="# Second title\n\ntext\n")
    with pytest.raises(ContentError, match="level-1 heading"):
        load_library(content_dir)


def test_bad_reading_time_override_is_refused(content_dir):
    write_article(content_dir, reading_time="soon")
    with pytest.raises(ContentError, match="'reading_time'"):
        load_library(content_dir)


def test_slug_is_the_file_name(content_dir):
    write_article(content_dir, slug="why-agents-fail")
    library = load_library(content_dir)
    assert [a.slug for a in library.articles] == ["why-agents-fail"]
    assert library.article("why-agents-fail").title == "A Title"


@pytest.mark.parametrize(
    ("words", "minutes"), [(0, 1), (50, 1), (299, 1), (300, 2), (1229, 6), (1300, 7), (2000, 10)]
)
def test_reading_time_is_words_over_two_hundred_rounded(words, minutes):
    assert reading_minutes(words) == minutes


def test_reading_time_is_computed_from_the_words(content_dir):
    body = "## Part\n\n" + " ".join(["word"] * 1400) + "\n"
    write_article(content_dir, body=body)
    assert load_library(content_dir).articles[0].reading_minutes == 7


def test_reading_time_front_matter_overrides_the_count(content_dir):
    write_article(content_dir, reading_time=12)
    assert load_library(content_dir).articles[0].reading_minutes == 12


def test_seed_article_reads_in_six_minutes(seed_article_path):
    assert load_article(seed_article_path).reading_minutes == 6


def test_articles_are_newest_first_and_grouped_by_topic(content_dir):
    write_article(content_dir, slug="oldest", published="2024-01-01", updated="2024-01-01")
    write_article(content_dir, slug="newest", published="2026-05-01", updated="2026-05-02")
    write_article(
        content_dir,
        slug="middle",
        topic="Agent Workflows",
        published="2025-01-01",
        updated="2025-06-01",
    )
    library = load_library(content_dir)
    assert [a.slug for a in library.articles] == ["newest", "middle", "oldest"]
    assert list(library.topics) == ["agent-workflows", "ai-strategy"]
    strategy = library.topic("ai-strategy")
    assert strategy.name == "AI Strategy"
    assert [a.slug for a in strategy.articles] == ["newest", "oldest"]
    assert strategy.updated == date(2026, 5, 2)


def test_adding_an_article_is_adding_a_file(content_dir):
    copy_seed(content_dir)
    assert len(load_library(content_dir).articles) == 1
    write_article(content_dir, slug="second-article")
    assert len(load_library(content_dir).articles) == 2


def test_topic_slug_is_readable():
    assert slugify("AI Systems Architecture") == "ai-systems-architecture"
    assert slugify("Cross-Dept. Alignment & Ops") == "cross-dept-alignment-ops"


def test_seed_comparison_marks_keep_their_words_for_screen_readers(seed_article_path):
    html = load_article(seed_article_path).html
    assert html.count('class="mark mark-full"') == 8
    assert '<th scope="row">Strategic Design</th>' in html
    # The icon is the stylesheet's: the cell holds only the word a screen reader reads.
    assert '<td class="mark mark-limited">Limited</td>' in html
    assert "●" not in html


def test_seed_hire_when_lists_become_signals(seed_article_path):
    article = load_article(seed_article_path)
    assert article.hire_headings == {
        "architect": "Hire an AI Systems Architect when",
        "engineer": "Hire an AI Engineer when",
    }
    assert len(article.hire_signals["architect"]) == 6
    assert article.hire_signals["engineer"][3] == "Fine-tuning models on domain-specific data"


def test_seed_faq_has_five_questions_with_answers(seed_article_path):
    faq = load_article(seed_article_path).faq
    assert [question for question, _ in faq] == [
        "Is an AI Systems Architect the same as an AI Engineer?",
        "Which role is more strategic?",
        "Do startups need an AI Systems Architect?",
        "Can one person perform both roles?",
        "How does an AI Systems Architect work with engineering teams?",
    ]
    assert faq[3][1].startswith("Rarely, and rarely well.")
    assert faq[4][1].endswith("Engineering teams then build within that framework.")


def test_content_check_command_lists_valid_articles(runner):
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code == 0
    assert "ok  ai-systems-architect-vs-ai-engineer  (6 min read" in result.output


def test_content_check_command_names_the_broken_file(content_dir, settings):
    from app import create_app

    copy_seed(content_dir)
    app = create_app({**settings, "CONTENT_DIR": str(content_dir)})
    write_article(content_dir, slug="late-broken", title=None)
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "late-broken.md: field 'title' is required" in result.output


def test_malformed_article_stops_start_up(content_dir, settings):
    from app import create_app

    write_article(content_dir, slug="no-author", author=None)
    with pytest.raises(ContentError, match=r"no-author\.md: field 'author'"):
        create_app({**settings, "CONTENT_DIR": str(content_dir)})
