"""Calendars.

- `files`: the .ics invite and the Google and Outlook links of a call
"""
