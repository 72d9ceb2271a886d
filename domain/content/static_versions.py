"""Content hashes for static URLs: `/static/css/base.css?v=3f2a9c1b7d4e`, kept for a year.

A file's version is the start of its SHA-256, computed the first time a URL to it is built
and then kept for the life of the process: static files change only with a deploy, and a
deploy restarts the processes. A changed file gets a new URL, so a browser or a proxy may
keep a versioned response for ever (`IMMUTABLE`), and nginx serves them from disk with the
same header (deploy/nginx/intelligence-library.conf.template).
"""

import hashlib
from pathlib import Path

from werkzeug.security import safe_join

VERSION_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"


def file_version(path: Path) -> str:
    """The first VERSION_LENGTH hex digits of the file's SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:VERSION_LENGTH]


class StaticVersions:
    """Each static file's version, computed once per process.

    Only files that exist are remembered, so names from URLs cannot grow the cache.
    """

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], str] = {}

    def version(self, folder: str, filename: str) -> str | None:
        key = (folder, filename)
        if key not in self._known:
            found = safe_join(folder, filename)
            if found is None or not Path(found).is_file():
                return None
            # Two threads may both compute it the first time: the same value, no harm.
            self._known[key] = file_version(Path(found))
        return self._known[key]
