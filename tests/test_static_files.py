"""Static files: every URL carries the file's content hash and may then be kept for a year."""

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from app import create_app
from domain.content.library import fingerprint_files
from domain.content.static_versions import minify_css

STATIC = Path(__file__).resolve().parents[1] / "static"
STATIC_URL = re.compile(r'(?:href|src)="(/static/[^"]+)"')
PAGES = ("/", "/library/ai-systems-architect-vs-ai-engineer", "/book")


def content_hash(relative: str, folder: Path = STATIC) -> str:
    return hashlib.sha256((folder / relative).read_bytes()).hexdigest()[:12]


@pytest.mark.parametrize("page", PAGES)
def test_every_static_url_on_a_page_carries_its_files_content_hash(client, open_hours, page):
    html = client.get(page).get_data(as_text=True)
    urls = STATIC_URL.findall(html)
    assert urls, f"{page} links no static file"
    for url in urls:
        path, _, query = url.partition("?")
        relative = path.removeprefix("/static/")
        assert query == f"v={content_hash(relative)}", url


def stylesheet_url(settings: dict, folder: Path) -> str:
    """The stylesheet's URL on the home page of a fresh process serving `folder`."""
    app = create_app(settings)
    app.static_folder = str(folder)
    html = app.test_client().get("/").get_data(as_text=True)
    return re.search(r'href="(/static/min/css/base\.css\?v=[0-9a-f]+)"', html).group(1)


def test_a_changed_file_gets_a_new_url(settings, tmp_path):
    folder = tmp_path / "static"
    shutil.copytree(STATIC, folder)
    before = stylesheet_url(settings, folder)
    with (folder / "css" / "base.css").open("a") as stylesheet:
        stylesheet.write("\n.changed { color: inherit; }\n")
    after = stylesheet_url(settings, folder)
    assert before != after
    assert after.endswith(content_hash("min/css/base.css", folder))


def test_a_url_with_the_current_hash_may_be_kept_for_a_year(client):
    url = f"/static/css/base.css?v={content_hash('css/base.css')}"
    response = client.get(url)
    assert response.status_code == 200
    cache = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert cache == {"public", "max-age=31536000", "immutable"}


@pytest.mark.parametrize("query", ["", "?v=0123456789ab", "?v="])
def test_a_url_without_the_current_hash_is_checked_again_each_time(client, query):
    """An old page's URL after a deploy, or none: the file as it is now, revalidated."""
    response = client.get(f"/static/css/base.css{query}")
    assert response.status_code == 200
    assert "immutable" not in response.headers.get("Cache-Control", "")
    assert response.headers.get("ETag")


def test_a_missing_file_is_still_404(client):
    assert client.get("/static/css/nothing.css?v=0123456789ab").status_code == 404


def linked_stylesheets(html: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="/static/min/css/([a-z-]+\.css)\?v=', html)


def test_an_article_loads_only_the_reading_styles(client):
    html = client.get("/library/ai-systems-architect-vs-ai-engineer").get_data(as_text=True)
    assert linked_stylesheets(html) == ["base.css", "reading.css"]


@pytest.mark.parametrize(
    ("url", "area"),
    [("/", "reading.css"), ("/book", "booking.css"), ("/owner/login", "owner.css")],
)
def test_each_area_loads_its_own_sheet_after_the_base(client, url, area):
    sheets = linked_stylesheets(client.get(url).get_data(as_text=True))
    assert sheets[0] == "base.css"
    assert area in sheets
    other_areas = {"reading.css", "booking.css", "owner.css"} - {area}
    if area != "owner.css":  # the owner's pages reuse the booking form controls
        assert not other_areas & set(sheets)


def test_minified_css_keeps_what_has_a_meaning():
    source = """/* a comment */
    .a :hover , .b > .c { width: calc(1px + 2px); color: red; }
    @media (min-width: 40rem) { .d { content: "– " / ""; } }
    """
    assert minify_css(source) == (
        ".a :hover,.b>.c{width:calc(1px + 2px);color:red}"
        '@media (min-width: 40rem){.d{content:"– " / ""}}'
    )


def test_a_stylesheet_that_cannot_be_minified_is_linked_as_written(settings, tmp_path):
    folder = tmp_path / "static"
    shutil.copytree(STATIC, folder, ignore=shutil.ignore_patterns("min"))
    (folder / "min").write_text("a file where the folder would go")
    app = create_app(settings)
    app.static_folder = str(folder)
    html = app.test_client().get("/").get_data(as_text=True)
    assert f'href="/static/css/base.css?v={content_hash("css/base.css", folder)}"' in html


def test_written_copies_leave_the_page_fingerprint_alone(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "base.css").write_text("a { color: red; }")
    before = fingerprint_files(tmp_path, skip=tmp_path / "min")
    (tmp_path / "min" / "css").mkdir(parents=True)
    (tmp_path / "min" / "css" / "base.css").write_text("a{color:red}")
    assert fingerprint_files(tmp_path, skip=tmp_path / "min") == before
