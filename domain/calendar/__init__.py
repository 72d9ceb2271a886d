"""Calendars.

- `files`: the .ics invite and the Google and Outlook links of a call
- `busy`: busy times read from the owner's own calendars (iCalendar text in, UTC spans out)
- `caldav_sync`: the owner's CalDAV calendar: its settings, and its busy times read into
  BusyInterval (`sync_caldav_busy`)
- `caldav_write`: calls written into that calendar through the outbox (channel "caldav")
"""
