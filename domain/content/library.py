"""Articles: Markdown files with front matter, loaded once into an immutable library.

The slug is the file name. A malformed article raises ContentError naming the file and
the field, so a bad file stops the site at start-up instead of failing a reader.
"""

import contextlib
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

import frontmatter
import yaml
from PIL import Image, UnidentifiedImageError
from werkzeug.security import safe_join

from domain.content.markdown_article import render_article_body

WORDS_PER_MINUTE = 200
REQUIRED_TEXT_FIELDS = ("title", "subtitle", "topic", "author", "description")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TAG_PATTERN = re.compile(r"<[^>]+>")
DEFAULT_CTA_TITLE = "Book a strategy conversation"
# What a sharing preview (Open Graph, X, LinkedIn) is sure to show.
SHARE_IMAGE_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
DEFAULT_CTA_TEXT = (
    "Talk through where your organisation stands with AI and what the highest-value next move is."
)


class ContentError(ValueError):
    """An article file that cannot be served; the message names the file and the field."""


@dataclass(frozen=True)
class ArticleImage:
    """The picture named in an article's front matter, found in static/ at start-up."""

    path: str  # relative to the static folder, as url_for('static', filename=...) takes it
    alt: str
    width: int
    height: int
    mimetype: str


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    subtitle: str
    topic: str
    topic_slug: str
    author: str
    published: date
    updated: date
    description: str
    lede: str
    cta_title: str
    cta_text: str
    reading_minutes: int
    html: str
    faq: tuple[tuple[str, str], ...]
    hire_signals: Mapping[str, tuple[str, ...]]
    hire_headings: Mapping[str, str]
    fingerprint: str
    image: ArticleImage | None = None

    # Dates are days; a reader of the structured data needs an instant with its zone, so a
    # day is taken to start at midnight UTC.
    @property
    def published_at(self) -> str:
        return datetime.combine(self.published, time(0), UTC).isoformat()

    @property
    def updated_at(self) -> str:
        return datetime.combine(self.updated, time(0), UTC).isoformat()


@dataclass(frozen=True)
class Topic:
    name: str
    slug: str
    articles: tuple[Article, ...]

    @property
    def updated(self) -> date:
        return max(article.updated for article in self.articles)


@dataclass(frozen=True)
class Library:
    articles: tuple[Article, ...] = ()  # newest first
    by_slug: Mapping[str, Article] = field(default_factory=dict)
    topics: Mapping[str, Topic] = field(default_factory=dict)  # by slug, alphabetical

    def article(self, slug: str) -> Article | None:
        return self.by_slug.get(slug)

    def topic(self, slug: str) -> Topic | None:
        return self.topics.get(slug)


def fingerprint_files(*directories: Path, skip: Path | None = None) -> str:
    """A hash of every file's name and bytes under `directories`, except under `skip`."""
    digest = hashlib.sha256()
    for directory in directories:
        files = (p for p in Path(directory).rglob("*") if p.is_file())
        for path in sorted(p for p in files if skip is None or not p.is_relative_to(skip)):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def count_words(*texts: str) -> int:
    return sum(len(TAG_PATTERN.sub(" ", text).split()) for text in texts)


def reading_minutes(word_count: int, words_per_minute: int = WORDS_PER_MINUTE) -> int:
    # Round half up, never below one minute: 1,229 words read as "6 min".
    return max(1, math.floor(word_count / words_per_minute + 0.5))


def load_library(directory: str | Path, static_dir: str | Path | None = None) -> Library:
    """Every article in `directory`; an `image:` in front matter must be a file in `static_dir`."""
    paths = sorted(Path(directory).glob("*.md"))
    articles = sorted(
        (load_article(path, static_dir) for path in paths),
        key=lambda article: (article.published, article.updated, article.slug),
        reverse=True,
    )
    return Library(
        articles=tuple(articles),
        by_slug={article.slug: article for article in articles},
        topics=group_by_topic(articles),
    )


def group_by_topic(articles: list[Article]) -> dict[str, Topic]:
    grouped: dict[str, list[Article]] = {}
    names: dict[str, str] = {}
    for article in articles:
        grouped.setdefault(article.topic_slug, []).append(article)
        names.setdefault(article.topic_slug, article.topic)
    return {
        slug: Topic(name=names[slug], slug=slug, articles=tuple(grouped[slug]))
        for slug in sorted(grouped, key=lambda s: names[s].lower())
    }


def load_article(path: Path, static_dir: str | Path | None = None) -> Article:
    slug = path.stem
    if not SLUG_PATTERN.match(slug):
        raise ContentError(f"{path.name}: file name must be a slug (lowercase words and hyphens)")
    raw = path.read_bytes()
    try:
        post = frontmatter.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise ContentError(f"{path.name}: front matter is not valid YAML ({error})") from error
    meta = post.metadata
    texts = {name: required_text(path, meta, name) for name in REQUIRED_TEXT_FIELDS}
    published = required_date(path, meta, "published")
    updated = required_date(path, meta, "updated") if "updated" in meta else published
    if updated < published:
        raise ContentError(f"{path.name}: field 'updated' is earlier than 'published'")
    lede = optional_text(path, meta, "lede")
    cta_title = optional_text(path, meta, "cta_title") or DEFAULT_CTA_TITLE
    cta_text = optional_text(path, meta, "cta_text") or DEFAULT_CTA_TEXT
    html, facts = render_article_body(post.content)
    if facts.h1_count:
        raise ContentError(f"{path.name}: body must not contain a level-1 heading (# ...)")
    words = count_words(texts["title"], texts["subtitle"], lede, html)
    return Article(
        slug=slug,
        published=published,
        updated=updated,
        lede=lede,
        cta_title=cta_title,
        cta_text=cta_text,
        reading_minutes=optional_minutes(path, meta) or reading_minutes(words),
        topic_slug=slugify(texts["topic"]),
        html=html,
        faq=tuple(facts.faq),
        hire_signals={key: tuple(items) for key, items in facts.hire_signals.items()},
        hire_headings=dict(facts.hire_headings),
        fingerprint=hashlib.sha256(raw).hexdigest()[:16],
        image=optional_image(path, meta, static_dir),
        **texts,
    )


def required_text(path: Path, meta: dict, name: str) -> str:
    value = meta.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"{path.name}: field '{name}' is required and must be text")
    return value.strip()


def optional_text(path: Path, meta: dict, name: str) -> str:
    return required_text(path, meta, name) if name in meta else ""


def required_date(path: Path, meta: dict, name: str) -> date:
    value = meta.get(name)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value)
    if not isinstance(value, date):
        raise ContentError(f"{path.name}: field '{name}' must be a date like 2025-04-01")
    return value


def optional_minutes(path: Path, meta: dict) -> int | None:
    value = meta.get("reading_time")
    if value is None:
        return None
    if isinstance(value, str):
        value = value.removesuffix("min read").removesuffix("min").strip()
        value = int(value) if value.isdigit() else value
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ContentError(f"{path.name}: field 'reading_time' must be a whole number of minutes")
    return value


def optional_image(path: Path, meta: dict, static_dir: str | Path | None) -> ArticleImage | None:
    """`image:` (a file under static/) with its `image_alt:`, or None when neither is given."""
    if "image" not in meta:
        if "image_alt" in meta:
            raise ContentError(f"{path.name}: field 'image_alt' needs an 'image' to describe")
        return None
    name = required_text(path, meta, "image")
    alt = required_text(path, meta, "image_alt")
    found = safe_join(str(static_dir), name) if static_dir is not None else None
    if found is None or not Path(found).is_file():
        raise ContentError(f"{path.name}: field 'image' names no file in static/ ({name})")
    try:
        with Image.open(found) as picture:
            size, kind, mimetype = picture.size, picture.format, picture.get_format_mimetype()
    except (OSError, UnidentifiedImageError) as error:
        raise ContentError(f"{path.name}: field 'image' is not a picture ({name})") from error
    if kind not in SHARE_IMAGE_FORMATS:
        raise ContentError(f"{path.name}: field 'image' must be a PNG, JPEG, WebP or GIF")
    width, height = size
    return ArticleImage(path=name, alt=alt, width=width, height=height, mimetype=mimetype)
