"""Server-rendered SVG charts for the owner's dashboard: no chart library, no script.

Each function returns `Markup` built from escaped parts, so an article title can never
inject markup. The CSP forbids inline `style`, so looks come from class names styled in
the stylesheet, with `fill`/`stroke` presentation attributes as a fallback (a stylesheet
rule overrides a presentation attribute). A chart is an image with a title and a
description for screen readers; the numbers themselves are in the table beside it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from domain.leads.funnel import ArticleFunnel, DayTotals


@dataclass(frozen=True)
class Series:
    key: str  # class suffix: bar-views, line-views …
    label: str
    colour: str  # fallback fill when the stylesheet does not style the class


FUNNEL_SERIES = (
    Series("views", "Views", "#7a8291"),
    Series("clicks", "Clicks", "#b86a12"),
    Series("bookings", "Bookings", "#2e8b57"),
    Series("won", "Won", "#3b6fd4"),
)
# Text follows the page's own colour (light or dark theme) even without chart CSS.
TEXT_COLOUR = "currentColor"
WIDTH = 640
LABEL_COLUMN = 72  # "Bookings" beside each bar
VALUE_COLUMN = 64  # the number after each bar
BAR_HEIGHT = 14
BAR_GAP = 4
TITLE_HEIGHT = 22
GROUP_GAP = 18
MAX_TITLE_CHARS = 70


def truncate(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """Cut at a word boundary where one is near, and end with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,.;:–-") + "…"


def counted(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def attrs(**values) -> Markup:
    """Escaped attributes; a trailing underscore is dropped and `_` becomes `-`."""
    return Markup(" ").join(
        Markup('{}="{}"').format(name.rstrip("_").replace("_", "-"), value)
        for name, value in values.items()
    )


def svg_open(
    chart_id: str, height: int, class_name: str, width: int = WIDTH, *, fixed: bool = False
) -> Markup:
    """`fixed` gives the drawing its own size; otherwise it fills the width it is given."""
    size = {"width": width, "height": height} if fixed else {}
    return Markup("<svg {}>").format(
        attrs(
            xmlns="http://www.w3.org/2000/svg",
            class_=class_name,
            viewBox=f"0 0 {width} {height}",
            **size,
            role="img",
            aria_labelledby=f"{chart_id}-title {chart_id}-desc",
            focusable="false",
        )
    )


def title_and_desc(chart_id: str, title: str, description: str) -> Markup:
    return Markup('<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>').format(
        chart_id, title, chart_id, description
    )


def text(x: float, y: float, content: str, class_name: str, **extra) -> Markup:
    return Markup("<text {}>{}</text>").format(
        attrs(x=f"{x:g}", y=f"{y:g}", class_=class_name, fill=TEXT_COLOUR, font_size="13", **extra),
        content,
    )


def funnel_chart(
    rows: Sequence[ArticleFunnel], *, chart_id: str = "funnel-chart", period: str = ""
) -> Markup:
    """Grouped horizontal bars per article: views, clicks, bookings, won on one scale."""
    title = f"Funnel per article · {period}" if period else "Funnel per article"
    values = [funnel_values(row) for row in rows]
    peak = max((max(v) for v in values), default=0)
    if peak == 0:
        return empty_chart(chart_id, title, "No views, clicks or bookings in this period.")
    description = (
        f"Horizontal bars for {counted(len(rows), 'article')}: views, "
        "call-to-action clicks, bookings and won leads, on one scale. "
        "The table beside the chart lists the numbers."
    )
    group_height = TITLE_HEIGHT + len(FUNNEL_SERIES) * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP
    height = len(rows) * group_height
    groups = [
        bar_group(row, numbers, peak, index * group_height)
        for index, (row, numbers) in enumerate(zip(rows, values, strict=True))
    ]
    return Markup("").join(
        [
            svg_open(chart_id, height, "chart funnel-chart"),
            title_and_desc(chart_id, title, description),
            *groups,
            Markup("</svg>"),
        ]
    )


def funnel_values(row: ArticleFunnel) -> tuple[int, int, int, int]:
    return row.views, row.cta_clicks, row.bookings, row.won


def bar_group(row: ArticleFunnel, numbers: Sequence[int], peak: int, top: int) -> Markup:
    track = WIDTH - LABEL_COLUMN - VALUE_COLUMN
    parts = [text(0, top + 15, truncate(row.title), "chart-article", font_weight="600")]
    for index, (series, value) in enumerate(zip(FUNNEL_SERIES, numbers, strict=True)):
        y = top + TITLE_HEIGHT + index * (BAR_HEIGHT + BAR_GAP)
        # A non-zero count keeps a sliver, so it never reads as nothing.
        width = max(value / peak * track, 2) if value else 0
        parts += [
            text(0, y + 11, series.label, "chart-series", fill_opacity="0.75"),
            Markup("<rect {}/>").format(
                attrs(
                    class_=f"bar bar-{series.key}",
                    x=LABEL_COLUMN,
                    y=y,
                    width=f"{width:.1f}",
                    height=BAR_HEIGHT,
                    fill=series.colour,
                )
            ),
            text(LABEL_COLUMN + width + 6, y + 11, f"{value:,}", "chart-value"),
        ]
    return Markup('<g class="chart-group">{}</g>').format(Markup("").join(parts))


def empty_chart(chart_id: str, title: str, message: str, height: int = 80) -> Markup:
    return Markup("").join(
        [
            svg_open(chart_id, height, "chart chart-empty"),
            title_and_desc(chart_id, title, message),
            Markup("<rect {}/>").format(
                attrs(
                    class_="chart-frame",
                    x=1,
                    y=1,
                    width=WIDTH - 2,
                    height=height - 2,
                    fill="none",
                    stroke=TEXT_COLOUR,
                    stroke_dasharray="4 4",
                )
            ),
            text(WIDTH / 2, height / 2 + 5, message, "chart-message", text_anchor="middle"),
            Markup("</svg>"),
        ]
    )


SPARK_SERIES = (
    Series("views", "Views", "#7a8291"),
    Series("bookings", "Bookings", "#2e8b57"),
)
SPARK_WIDTH = 320
SPARK_HEIGHT = 64
SPARK_ROW = 28


def sparkline(days: Sequence[DayTotals], *, chart_id: str = "daily-sparkline") -> Markup:
    """Views and bookings per day, one line each, each on its own scale (shape, not size)."""
    title = "Views and bookings per day"
    if not days or not any(d.views or d.bookings for d in days):
        return empty_chart(chart_id, title, "No views or bookings in this period.", height=48)
    first, last = days[0].day, days[-1].day
    description = (
        f"From {first:%-d %b %Y} to {last:%-d %b %Y}: "
        f"{counted(sum(d.views for d in days), 'view')} and "
        f"{counted(sum(d.bookings for d in days), 'booking')}. Each line has its own scale."
    )
    lines = [
        spark_line(series, [getattr(d, series.key) for d in days], index * (SPARK_ROW + 4))
        for index, series in enumerate(SPARK_SERIES)
    ]
    return Markup("").join(
        [
            svg_open(chart_id, SPARK_HEIGHT, "chart sparkline", width=SPARK_WIDTH, fixed=True),
            title_and_desc(chart_id, title, description),
            *lines,
            Markup("</svg>"),
        ]
    )


def spark_line(series: Series, values: Sequence[int], top: int) -> Markup:
    left = 74  # after the series name
    track = SPARK_WIDTH - left - 2
    peak = max(values) or 1
    step = track / (len(values) - 1) if len(values) > 1 else 0
    points = " ".join(
        f"{left + i * step:.1f},{top + SPARK_ROW - 2 - v / peak * (SPARK_ROW - 4):.1f}"
        for i, v in enumerate(values)
    )
    if len(values) == 1:  # one day: a short flat line, not an invisible point
        y = points.split(",")[1]
        points = f"{left},{y} {left + track},{y}"
    return Markup("").join(
        [
            text(0, top + SPARK_ROW / 2 + 5, series.label, "chart-series", fill_opacity="0.75"),
            Markup("<polyline {}/>").format(
                attrs(
                    class_=f"line line-{series.key}",
                    points=points,
                    fill="none",
                    stroke=series.colour,
                    stroke_width="1.5",
                    stroke_linejoin="round",
                )
            ),
        ]
    )
