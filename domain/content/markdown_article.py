"""Markdown to HTML for articles, plus what the site reads out of the body.

Authors write plain Markdown; a few conventions carry meaning the site uses:
- a table inside `<div class="comparison" markdown="1">` gets readable marks: a cell that
  says Full, Partial, Limited or Rare keeps its word and gains a decorative icon;
- `<section class="hire-when" data-engagement="architect" markdown="1">` holds a numbered
  list whose items become the booking form's "what prompts the call" choices;
- `<section class="faq" markdown="1">` holds `###` questions, each followed by its answer,
  which feed the FAQPage structured data.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

# Icons are decoration only (aria-hidden); the word beside them carries the meaning.
MARK_ICONS = {"full": "●", "partial": "◐", "limited": "○", "rare": "·"}


@dataclass
class BodyFacts:
    faq: list[tuple[str, str]] = field(default_factory=list)
    hire_signals: dict[str, list[str]] = field(default_factory=dict)
    hire_headings: dict[str, str] = field(default_factory=dict)
    h1_count: int = 0


def text_of(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


class ArticleTreeprocessor(Treeprocessor):
    def __init__(self, md: markdown.Markdown, facts: BodyFacts):
        super().__init__(md)
        self.facts = facts

    def run(self, root: ET.Element) -> None:
        self.facts.h1_count = sum(1 for _ in root.iter("h1"))
        for container in root.iter():
            classes = container.get("class", "").split()
            if "comparison" in classes:
                # A region that may scroll on a narrow screen must be reachable by keyboard.
                container.set("role", "region")
                container.set("tabindex", "0")
                container.set("aria-label", "Comparison table")
                for table in container.iter("table"):
                    self.mark_comparison(table)
            if "hire-when" in classes:
                self.collect_hire_signals(container)
            if "faq" in classes:
                self.collect_faq(container)

    def mark_comparison(self, table: ET.Element) -> None:
        for header in table.iter("th"):
            header.set("scope", "col")
        tbody = table.find("tbody")
        for row in tbody if tbody is not None else []:
            cells = list(row)
            if cells:
                cells[0].tag = "th"
                cells[0].set("scope", "row")
            for cell in cells[1:]:
                self.mark_cell(cell)

    @staticmethod
    def mark_cell(cell: ET.Element) -> None:
        word = text_of(cell)
        kind = word.lower()
        if kind not in MARK_ICONS or len(cell):
            return
        # The icon is drawn by reading.css (.mark-full::before …), hidden from screen
        # readers there: the cell keeps only its word, which is what a reader hears.
        cell.text = word
        cell.set("class", f"mark mark-{kind}")

    def collect_hire_signals(self, section: ET.Element) -> None:
        engagement = section.get("data-engagement", "")
        heading = next((h for h in section if h.tag in {"h2", "h3", "h4"}), None)
        items = [text_of(li) for ol in section.iter("ol") for li in ol.iter("li")]
        if engagement and items:
            self.facts.hire_signals[engagement] = items
            self.facts.hire_headings[engagement] = text_of(heading) if heading is not None else ""

    def collect_faq(self, section: ET.Element) -> None:
        question, answer_parts = None, []
        for child in section:
            if child.tag == "h3":
                self.add_faq(question, answer_parts)
                question, answer_parts = text_of(child), []
            elif question is not None:
                answer_parts.append(text_of(child))
        self.add_faq(question, answer_parts)

    def add_faq(self, question: str | None, answer_parts: list[str]) -> None:
        if question:
            self.facts.faq.append((question, " ".join(answer_parts)))


class ArticleExtension(Extension):
    def __init__(self, facts: BodyFacts):
        super().__init__()
        self.facts = facts

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        # After inline processing (priority < 20) so cell and list texts are final.
        md.treeprocessors.register(ArticleTreeprocessor(md, self.facts), "article_facts", 5)


def render_article_body(source: str) -> tuple[str, BodyFacts]:
    facts = BodyFacts()
    converter = markdown.Markdown(
        extensions=[
            "tables",
            "attr_list",
            "def_list",
            "md_in_html",
            "toc",
            ArticleExtension(facts),
        ],
        extension_configs={"toc": {"toc_depth": "2-3"}},
        output_format="html",
    )
    return converter.convert(source), facts
