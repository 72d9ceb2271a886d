"""Calendars.

- `files`: the .ics invite and the Google and Outlook links of a call
- `busy`: busy times read from the owner's own calendars (iCalendar text in, UTC spans out)
"""
