"""Sharing an article shows a picture: the title card or the front matter's image."""

import io
import json
import re
from html import unescape

import pytest
from PIL import Image

from app import create_app
from domain.content.library import ContentError, load_library
from domain.content.share_card import CardText, render_card
from tests.conftest import copy_seed
from tests.test_content import write_article

ARTICLE_URL = "/library/ai-systems-architect-vs-ai-engineer"
SITE = "https://example.test"


def meta(html: str, key: str) -> str:
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', html)
    assert found, f"no <meta> {key}"
    return unescape(found.group(1))


def article_json_ld(html: str) -> dict:
    for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S):
        data = json.loads(block)
        if data["@type"] == "Article":
            return data
    raise AssertionError("no Article JSON-LD")


def local(url: str) -> str:
    assert url.startswith(SITE + "/"), url
    return url.removeprefix(SITE)


def picture(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    image.load()
    return image


def test_article_is_shared_with_a_large_title_card(client):
    html = client.get(ARTICLE_URL).get_data(as_text=True)
    card_url = meta(html, "og:image")
    assert meta(html, "twitter:image") == card_url
    assert meta(html, "twitter:card") == "summary_large_image"
    assert (meta(html, "og:image:width"), meta(html, "og:image:height")) == ("1200", "630")
    assert "AI Systems Architect vs AI Engineer" in meta(html, "og:image:alt")
    assert re.fullmatch(rf"{SITE}{ARTICLE_URL}/card\.png\?v=[0-9a-f]{{12}}", card_url)
    response = client.get(local(card_url))
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    card = picture(response.data)
    assert (card.format, card.size) == ("PNG", (1200, 630))


def test_card_is_cached_for_a_year_under_its_version_and_revalidated_otherwise(client):
    card_url = local(meta(client.get(ARTICLE_URL).get_data(as_text=True), "og:image"))
    version = card_url.rsplit("=", 1)[1]
    current = client.get(card_url)
    assert current.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert current.headers["ETag"] == f'"{version}"'
    old = client.get(f"{ARTICLE_URL}/card.png?v=000000000000")
    assert "no-cache" in old.headers["Cache-Control"]
    assert old.data == current.data
    again = client.get(card_url, headers={"If-None-Match": f'"{version}"'})
    assert again.status_code == 304
    assert again.data == b""


def test_card_of_an_unknown_article_is_not_found(client):
    assert client.get("/library/no-such-article/card.png").status_code == 404


def test_card_version_follows_the_words_on_it():
    one = CardText("A title", "AI Strategy", "Site")
    assert CardText("A title", "AI Strategy", "Site").version == one.version
    assert CardText("Another title", "AI Strategy", "Site").version != one.version
    assert CardText("A title", "AI Delivery", "Site").version != one.version


def test_a_very_long_title_still_makes_a_card_of_the_right_size():
    card = picture(render_card(CardText("Architecture " * 60, "Topic", "Site")))
    assert card.size == (1200, 630)


def test_article_json_ld_has_image_publisher_logo_author_url_and_zoned_dates(client):
    html = client.get(ARTICLE_URL).get_data(as_text=True)
    article = article_json_ld(html)
    assert article["image"]["url"] == meta(html, "og:image")
    assert (article["image"]["width"], article["image"]["height"]) == (1200, 630)
    assert article["author"]["url"] == f"{SITE}/"
    assert article["datePublished"] == "2025-04-01T00:00:00+00:00"
    assert article["dateModified"] == "2026-06-01T00:00:00+00:00"
    assert meta(html, "article:published_time") == "2025-04-01T00:00:00+00:00"
    publisher = article["publisher"]
    assert publisher["@type"] == "Organization"
    assert publisher["name"] == "Saed Shafane · Intelligence Library"
    logo = client.get(local(publisher["logo"]["url"]))
    assert logo.status_code == 200
    assert picture(logo.data).size == (publisher["logo"]["width"], publisher["logo"]["height"])


def test_front_matter_image_is_shared_instead_of_the_card(settings, content_dir):
    copy_seed(content_dir)
    write_article(
        content_dir,
        slug="with-a-picture",
        image="img/logo.png",
        image_alt="The site's monogram, SS, on navy",
    )
    client = create_app({**settings, "CONTENT_DIR": str(content_dir)}).test_client()
    html = client.get("/library/with-a-picture").get_data(as_text=True)
    shared = meta(html, "og:image")
    assert re.fullmatch(rf"{SITE}/static/img/logo\.png\?v=[0-9a-f]{{12}}", shared)
    assert meta(html, "twitter:image") == shared
    assert meta(html, "og:image:alt") == "The site's monogram, SS, on navy"
    assert (meta(html, "og:image:width"), meta(html, "og:image:height")) == ("512", "512")
    assert article_json_ld(html)["image"]["url"] == shared
    assert client.get(local(shared)).status_code == 200


@pytest.fixture
def static_dir(tmp_path):
    folder = tmp_path / "static"
    (folder / "img").mkdir(parents=True)
    Image.new("RGB", (1200, 630), "navy").save(folder / "img" / "share.png")
    (folder / "img" / "notes.png").write_text("not a picture")
    (tmp_path / "secret.png").write_bytes((folder / "img" / "share.png").read_bytes())
    return folder


def test_front_matter_image_is_read_with_its_size(content_dir, static_dir):
    write_article(content_dir, image="img/share.png", image_alt="A navy card")
    image = load_library(content_dir, static_dir).articles[0].image
    assert (image.path, image.alt, image.width, image.height) == (
        "img/share.png",
        "A navy card",
        1200,
        630,
    )
    assert image.mimetype == "image/png"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"image": "img/missing.png", "image_alt": "x"}, "names no file in static/"),
        ({"image": "../secret.png", "image_alt": "x"}, "names no file in static/"),
        ({"image": "/etc/hostname", "image_alt": "x"}, "names no file in static/"),
        ({"image": "img/notes.png", "image_alt": "x"}, "is not a picture"),
        ({"image": "img/share.png"}, "'image_alt' is required"),
        ({"image_alt": "A picture of nothing"}, "'image_alt' needs an 'image'"),
    ],
)
def test_bad_front_matter_image_stops_start_up_naming_the_file(
    content_dir, static_dir, fields, message
):
    write_article(content_dir, slug="bad-picture", **fields)
    with pytest.raises(ContentError, match=message) as error:
        load_library(content_dir, static_dir)
    assert "bad-picture.md" in str(error.value)
