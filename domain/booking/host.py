"""Who a visitor will talk to: the host card of step 1, from content/host.md.

The owner edits one file (front matter for the facts, the body for a short bio), never
code. It is read and checked once, when the app starts: a missing field stops the start
with a message naming the file and the field, instead of a broken booking page."""

from dataclasses import dataclass
from pathlib import Path

import frontmatter
from markdown import markdown

# The call's length and where it happens are the owner's booking settings
# (/owner/availability), which the card shows, so they are never written twice.
REQUIRED = ("name", "role", "photo", "photo_alt", "covers")


class HostCardError(ValueError):
    pass


@dataclass(frozen=True)
class HostCard:
    name: str
    role: str
    photo: str  # a path under static/
    photo_alt: str
    covers: tuple[str, ...]
    bio_html: str  # rendered from the owner's own Markdown

    @property
    def first_name(self) -> str:
        """How the booking pages name the host in a sentence ("Saed reads every reason")."""
        return self.name.split()[0]


def load_host_card(path: Path, static_folder: Path) -> HostCard:
    try:
        post = frontmatter.load(path)
    except Exception as error:
        raise HostCardError(f"{path}: cannot be read ({error})") from error
    missing = [key for key in REQUIRED if not post.metadata.get(key)]
    if missing:
        raise HostCardError(f"{path}: please fill in {', '.join(missing)}")
    covers = post.metadata["covers"]
    if (
        not isinstance(covers, list)
        or len(covers) != 3
        or not all(isinstance(c, str) for c in covers)
    ):
        raise HostCardError(f"{path}: 'covers' needs exactly three points, one per line")
    photo = str(post.metadata["photo"])
    inside = not Path(photo).is_absolute() and ".." not in Path(photo).parts
    if not inside or not (static_folder / photo).is_file():
        raise HostCardError(f"{path}: the photo {photo!r} is not a file under static/")
    if not post.content.strip():
        raise HostCardError(f"{path}: please write a short bio below the front matter")
    return HostCard(
        name=str(post.metadata["name"]),
        role=str(post.metadata["role"]),
        photo=photo,
        photo_alt=str(post.metadata["photo_alt"]),
        covers=tuple(covers),
        bio_html=markdown(post.content),
    )
