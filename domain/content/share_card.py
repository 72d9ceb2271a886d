"""The picture a shared article shows: a 1200×630 PNG card made from its title.

A card is drawn the first time it is asked for and then kept in memory for the life of the
process (one per article, so the cache cannot grow from URLs). Its version is a hash of
what it is drawn from: the words on it, this module's source and Pillow's version. The
article page names the card by that version, so the URL changes whenever the picture
could, and the picture may be cached for a year without drawing it to find out.

The font is the one bundled with Pillow, so a card looks the same on every machine.
"""

import hashlib
import io
import threading
from dataclasses import dataclass
from pathlib import Path

import PIL
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 630
MARGIN = 80
BACKGROUND = "#13203b"  # base.css --ink: the call-to-action band's colour
TITLE_COLOUR = "#f4f1ea"
EYEBROW_COLOUR = "#f4b942"
FOOTER_COLOUR = "#c8cedb"
TITLE_SIZES = (72, 64, 56, 48, 42)  # the largest that fits in MAX_TITLE_LINES wins
MAX_TITLE_LINES = 4
LINE_SPACING = 1.2
VERSION_LENGTH = 12
_DESIGN = hashlib.sha256(Path(__file__).read_bytes() + PIL.__version__.encode()).hexdigest()


@dataclass(frozen=True)
class CardText:
    title: str
    eyebrow: str  # the article's topic
    footer: str  # the site's name

    @property
    def version(self) -> str:
        words = "\n".join((self.title, self.eyebrow, self.footer)).encode()
        return hashlib.sha256(_DESIGN.encode() + words).hexdigest()[:VERSION_LENGTH]


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap by measured width; a word longer than a line stands alone."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and face.getlength(candidate) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def fitted_title(title: str) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest size at which the title fits; at the smallest, the end is cut with '…'."""
    for size in TITLE_SIZES:
        face = font(size)
        lines = wrap(title, face, WIDTH - 2 * MARGIN)
        if len(lines) <= MAX_TITLE_LINES:
            return face, lines
    kept = lines[:MAX_TITLE_LINES]
    kept[-1] = kept[-1].rstrip(".,;:") + "…"
    return face, kept


def render_card(text: CardText) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, MARGIN), text.eyebrow.upper(), font=font(30), fill=EYEBROW_COLOUR)
    face, lines = fitted_title(text.title)
    step = round(face.size * LINE_SPACING)
    top = (HEIGHT - step * len(lines)) // 2
    for number, line in enumerate(lines):
        draw.text((MARGIN, top + number * step), line, font=face, fill=TITLE_COLOUR)
    draw.line((MARGIN, HEIGHT - 130, MARGIN + 120, HEIGHT - 130), fill=EYEBROW_COLOUR, width=4)
    draw.text((MARGIN, HEIGHT - MARGIN - 34), text.footer, font=font(34), fill=FOOTER_COLOUR)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class ShareCards:
    """Each article's card, drawn once per process and version."""

    def __init__(self) -> None:
        self._cards: dict[str, tuple[str, bytes]] = {}
        self._lock = threading.Lock()

    def card(self, slug: str, text: CardText) -> bytes:
        kept = self._cards.get(slug)
        if kept is not None and kept[0] == text.version:
            return kept[1]
        with self._lock:  # one drawing per card, however many readers share it at once
            kept = self._cards.get(slug)
            if kept is None or kept[0] != text.version:
                kept = (text.version, render_card(text))
                self._cards[slug] = kept
        return kept[1]
