"""Booking a strategy call.

- `availability`: the owner's rules, stored and validated
- `slots`: free times from the rules and the busy times (pure)
- `calls`: book, reschedule and cancel, each one transaction
- `booking_rows`: a new booking's reads and rows, as Core statements built once
- `stamp`: the availability stamp, changed by every write to calls or busy times
- `links`: private links to one booking, stored as hashes
- `link_emails`: emailing a visitor the links of their calls
- `timezones`: zone names and labels
- `tokens`: the form's signed render time and the client key
"""
