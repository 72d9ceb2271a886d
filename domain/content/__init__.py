"""The Intelligence Library's content.

- `library`: articles loaded from Markdown files with front matter
- `markdown_article`: an article's body rendered, with its FAQ and "hire when" lists
- `counters`: anonymous per-article views, clicks and bookings
- `page_cache`: rendered article pages with their headers, for the fast path (fast_pages.py)
- `static_versions`: content hashes for static file URLs
"""
