"""Checks every browser test shares: axe-core, sideways scrolling, console errors."""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page


def axe_report(violations: list[dict]) -> str:
    lines = [f"{len(violations)} accessibility violation(s):"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}")
            lines.append(f"       {node.get('failureSummary', '').replace(chr(10), ' ')}")
    return "\n".join(lines)


def assert_no_axe_violations(page: Page, where: str = "page") -> None:
    violations = Axe().run(page).response["violations"]
    assert not violations, f"{where}: {axe_report(violations)}"


# The deepest elements that reach past the right edge: what to fix when a page scrolls.
WIDEST = """() => Array.from(document.body.querySelectorAll('*'))
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5
    && !Array.from(el.children).some(
      c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
  .slice(0, 5)
  .map(el => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
    ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
    + ' (' + Math.round(el.getBoundingClientRect().right) + 'px)')"""


def assert_no_horizontal_scroll(page: Page, where: str) -> None:
    scroll_width, inner_width = page.evaluate(
        "[document.scrollingElement.scrollWidth, window.innerWidth]"
    )
    if scroll_width > inner_width:
        too_wide = ", ".join(page.evaluate(WIDEST))
        raise AssertionError(f"{where} scrolls sideways: {scroll_width}px; too wide: {too_wide}")


# Chromium logs the 400 of a form sent back with errors; that answer is the design.
FORM_REFUSED = "the server responded with a status of 400"


def record_console_errors(page: Page) -> list[str]:
    """Console errors of the page; a blocked inline style or script (CSP) shows up here."""
    errors: list[str] = []

    def note(message) -> None:
        if message.type == "error" and FORM_REFUSED not in message.text:
            errors.append(message.text)

    page.on("console", note)
    return errors
