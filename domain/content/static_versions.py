"""Content hashes for static URLs: `/static/css/base.css?v=3f2a9c1b7d4e`, kept for a year.

A file's version is the start of its SHA-256, computed the first time a URL to it is built
and then kept for the life of the process: static files change only with a deploy, and a
deploy restarts the processes. A changed file gets a new URL, so a browser or a proxy may
keep a versioned response for ever (`IMMUTABLE`), and nginx serves them from disk with the
same header (deploy/nginx/intelligence-library.conf.template).

Stylesheets are served minified: the first time a URL to `css/x.css` is built, the process
writes `min/css/x.css` beside it (git ignores static/min/) and links that, so nginx serves it
from disk like any static file. The sources stay readable, with their comments. If the copy
cannot be written (a read-only deploy), the source is linked instead.
"""

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

from werkzeug.security import safe_join

VERSION_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
MINIFIED = "min"  # the folder under static/ for derived copies, left out of PAGE_FINGERPRINT
LOG = logging.getLogger(__name__)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
CSS_SPACE = re.compile(r"\s+")
# Space around these never matters in CSS. Not around ( ) + or a bare space: `a b`,
# `calc(1px + 2px)` and `and (min-width: …)` need theirs.
CSS_PUNCTUATION = re.compile(r"\s*([{};,>])\s*")
CSS_DECLARATION = re.compile(r"([{;][-\w]+):\s+")


def minify_css(text: str) -> str:
    """Comments and needless whitespace removed; strings with /* or runs of spaces are not
    expected in our hand-written sheets."""
    text = CSS_SPACE.sub(" ", CSS_COMMENT.sub("", text))
    text = CSS_PUNCTUATION.sub(r"\1", text)
    # `color: red` -> `color:red`. Only after a declaration's name: in a selector, space
    # after a colon never occurs, and space before one (`a :hover`) has a meaning.
    text = CSS_DECLARATION.sub(r"\1:", text)
    return text.replace(";}", "}").strip()


def write_minified(folder: str, filename: str) -> str | None:
    """Write min/<filename> from the stylesheet's source; its name under static/, or None."""
    source = Path(folder) / filename
    target = Path(folder) / MINIFIED / filename
    try:
        text = minify_css(source.read_text(encoding="utf-8"))
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            # Several workers may start at once: each writes a whole file and renames it.
            handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
    except OSError as error:
        LOG.warning("serving %s unminified: %s", filename, error)
        return None
    return f"{MINIFIED}/{filename}"


def file_version(path: Path) -> str:
    """The first VERSION_LENGTH hex digits of the file's SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:VERSION_LENGTH]


class StaticVersions:
    """Each static file's version, computed once per process.

    Only files that exist are remembered, so names from URLs cannot grow the cache.
    """

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], str] = {}
        self._served: dict[tuple[str, str], str] = {}

    def served(self, folder: str, filename: str) -> str:
        """The name to link for `filename`: a stylesheet's minified copy, else itself."""
        key = (folder, filename)
        if key not in self._served:
            is_source = filename.endswith(".css") and not filename.startswith(f"{MINIFIED}/")
            found = safe_join(folder, filename) if is_source else None
            if found is None or not Path(found).is_file():
                return filename  # not remembered: names from URLs must not grow the cache
            self._served[key] = write_minified(folder, filename) or filename
        return self._served[key]

    def version(self, folder: str, filename: str) -> str | None:
        key = (folder, filename)
        if key not in self._known:
            found = safe_join(folder, filename)
            if found is None or not Path(found).is_file():
                return None
            # Two threads may both compute it the first time: the same value, no harm.
            self._known[key] = file_version(Path(found))
        return self._known[key]
