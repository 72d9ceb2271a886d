"""How the outbox is doing: what waits, what failed for good, and how late the mail is.

Read by /readyz and by each /metrics scrape, so it is two queries that the outbox's
(status, send_after) index answers: counts by status, and the earliest `send_after` among
messages still waiting that were due by now.

"Waiting" is pending or being sent: a message a sender claimed and has not recorded yet
has not gone out either (and if that sender died, it waits until the claim goes stale). A
message due later (a reminder for next week) waits without being late; lateness is how
long the longest-waiting due message has been due.

A booking's "owed" marker waits too: its emails are not even written yet (the request or
the inline sender normally writes them at once, the outbox worker after OWED_GRACE). A
debt nobody pays is mail that never leaves, so it counts, as one, and it makes mail late.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.mail.outbox import OWED
from models import OutboxMessage

WAITING = ("pending", "sending", OWED)


@dataclass(frozen=True)
class OutboxHealth:
    waiting: int  # pending, being sent or owed, due or not
    failed: int  # failed for good, listed on the owner's dashboard
    oldest_due_seconds: float  # how long the longest-waiting due message has been due; 0: none

    def lagging(self, limit_seconds: float) -> bool:
        return self.oldest_due_seconds > limit_seconds


def outbox_health(session: Session, now: datetime) -> OutboxHealth:
    counts = dict(
        session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_([*WAITING, "failed"]))
            .group_by(OutboxMessage.status)
        ).all()
    )
    oldest_due = session.scalar(
        select(func.min(OutboxMessage.send_after)).where(
            OutboxMessage.status.in_(WAITING), OutboxMessage.send_after <= now
        )
    )
    return OutboxHealth(
        waiting=sum(counts.get(status, 0) for status in WAITING),
        failed=counts.get("failed", 0),
        oldest_due_seconds=(now - oldest_due).total_seconds() if oldest_due else 0.0,
    )
