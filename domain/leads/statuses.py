"""The lead pipeline's statuses, in order, with the words the owner sees."""

from models import LEAD_STATUSES

STATUS_LABELS = {
    "new": "New",
    "contacted": "Contacted",
    "call_booked": "Call booked",
    "qualified": "Qualified",
    "proposal": "Proposal",
    "won": "Won",
    "lost": "Lost",
    "spam": "Spam",
}
assert tuple(STATUS_LABELS) == LEAD_STATUSES  # one list, one order

ENGAGEMENT_LABELS = {"architect": "AI Systems Architect", "engineer": "AI Engineer"}
BOOKING_STATUS_LABELS = {
    "active": "Booked",
    "cancelled": "Cancelled",
    "completed": "Completed",
    "no_show": "No-show",
}
