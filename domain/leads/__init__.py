"""Leads: who booked, how they fit, where they came from, and the owner's pipeline.

- `details`: one lead per address, never rewritten by a later booking
- `scoring`: fit score and suggested engagement
- `attribution`: first and last touch, articles read
- `actions`: status, notes, outcomes, export and erase
- `statuses`: the pipeline's labels
- `search`: the lead list's filters, order, pages and CSV
- `dashboard`, `funnel`, `charts`: the owner's dashboard
"""
