"""Every table of the site, SQLAlchemy 2.0 typed. Times are aware datetimes stored as UTC."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (no zones) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Tables the migrations make that no model maps: SQLite's FTS5 lead search tables and their
# shadow tables (lead_search_data, lead_words_idx, ...). Autogenerate and the schema test skip them.
UNMODELLED_TABLE_PREFIXES = ("lead_search", "lead_words")


def modelled_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's `include_name` hook: False for the search tables above."""
    return not (type_ == "table" and (name or "").startswith(UNMODELLED_TABLE_PREFIXES))


def utcnow() -> datetime:
    return datetime.now(UTC)


class ArticleDailyStat(db.Model):
    """Anonymous per-article, per-day counts: the top of each article's funnel."""

    __tablename__ = "article_daily_stat"

    slug: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    cta_clicks: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    bookings: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    # Leads from this article marked won (net of un-won); anonymous, so erasure keeps it.
    won: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)


class AvailabilitySettings(db.Model):
    """The owner's booking rules; one row (id 1). Weekly hours: {"0": [["09:00", "12:00"]]}."""

    __tablename__ = "availability_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    weekly_hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON)
    call_minutes: Mapped[int] = mapped_column(Integer)
    buffer_minutes: Mapped[int] = mapped_column(Integer)
    min_notice_minutes: Mapped[int] = mapped_column(Integer)
    horizon_days: Mapped[int] = mapped_column(Integer)
    daily_limit: Mapped[int | None] = mapped_column(Integer)
    dates_off: Mapped[list[str]] = mapped_column(JSON)
    # Where calls happen, "KIND:VALUE" (domain/booking/location.py); None until the owner sets it.
    call_location: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AvailabilityVersion(db.Model):
    """One row (id 1) whose token changes in the same transaction as every write to the
    calls or calendar busy times (domain/booking/stamp.py): the picker's per-process cache
    reads it in one tiny query to know whether what it computed still holds."""

    __tablename__ = "availability_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


LEAD_STATUSES = (
    "new",
    "contacted",
    "call_booked",
    "qualified",
    "proposal",
    "won",
    "lost",
    "spam",
)


class Lead(db.Model):
    """A person who booked, unique on the normalised email; a returning visitor is one lead.

    Its details are the ones given with its first booking. A later booking never changes
    them (anyone can type an address): each booking keeps the details given with it."""

    __tablename__ = "lead"
    __table_args__ = (
        CheckConstraint(
            "status IN ('new', 'contacted', 'call_booked', 'qualified', 'proposal', 'won', "
            "'lost', 'spam')",
            name="status_known",
        ),
        Index("ix_lead_status_created", "status", "created_at"),
        Index("ix_lead_source_created", "source_article", "created_at"),
        Index("ix_lead_next_call_order", "next_call_at", "created_at", "id"),  # 0012
        # Each list filter paired with each order (migration 0009), so a page walks one index.
        Index("ix_lead_fit_score_id", "fit_score", "id"),
        Index("ix_lead_status_fit_score", "status", "fit_score", "id"),
        Index("ix_lead_status_next_call_id", "status", "next_call_at", "id"),  # 0012
        Index("ix_lead_source_fit_score", "source_article", "fit_score", "id"),
        Index("ix_lead_source_next_call", "source_article", "next_call_at"),
        # Fragment search: trigram GIN on PostgreSQL. SQLite searches its FTS5 table
        # `lead_search` instead (made by the migration, not modelled); these stay plain there.
        *(
            Index(
                f"ix_lead_{column}_trgm",
                column,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )
            for column in ("name", "email", "company")
        ),  # fmt: skip
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    email_normalised: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    company_size: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="new", server_default="new")
    fit_score: Mapped[int] = mapped_column(Integer, default=0)
    suggested_engagement: Mapped[str] = mapped_column(String(20))
    source_article: Mapped[str | None] = mapped_column(String(200))
    first_touch: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_touch: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    articles_read: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent_version: Mapped[str] = mapped_column(String(40))
    consent_given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The start of the earliest upcoming active call, kept by domain/booking/calls.py for sorting.
    next_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    bookings: Mapped[list["Booking"]] = relationship(
        back_populates="lead",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Booking.starts_at",
    )
    events: Mapped[list["LeadEvent"]] = relationship(
        back_populates="lead",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="LeadEvent.at",
    )


class LeadEvent(db.Model):
    """The lead's timeline: the owner's notes and status changes, time-stamped."""

    __tablename__ = "lead_event"
    __table_args__ = (Index("ix_lead_event_lead_at", "lead_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # "note" | "status"
    body: Mapped[str] = mapped_column(Text, default="")
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))

    lead: Mapped[Lead] = relationship(back_populates="events")


class Owner(db.Model):
    """The consultant's account. `session_token` changes at every login and logout, and a
    session is only valid while it carries the current one."""

    __tablename__ = "owner"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    session_token: Mapped[str] = mapped_column(String(64))
    last_seen_leads_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Two-factor sign-in (TOTP): on while `totp_secret` is set. The pending secret is the
    # one being set up, until a first code confirms it. The last time step used is kept
    # so that a code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The key of the private calendar subscription feed; regenerating it retires the old URL.
    calendar_secret: Mapped[str | None] = mapped_column(String(64))


class RecoveryCode(db.Model):
    """A one-time recovery code of the owner's second factor, stored as its SHA-256 only."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(db.Model):
    """Every login step tried (never the password or code), for throttling; see
    domain/accounts/login_throttle.py. `device` is the known-device id the client proved, if any;
    a code attempt names the password attempt it continues (`pending_id`)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        CheckConstraint("kind IN ('password', 'code', 'reauth')", name="kind_known"),
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
        Index("ix_login_attempt_device_at", "device", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(10), default="password", server_default="password")
    # The password or code given was right.
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    # The attempt signed the owner in (a right password alone does not, with two factors).
    completed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    device: Mapped[str | None] = mapped_column(String(64))
    pending_id: Mapped[int | None] = mapped_column(
        ForeignKey("login_attempt.id", ondelete="SET NULL"), index=True
    )


class Booking(db.Model):
    """A strategy call. Active bookings never overlap: the database refuses it (see 0002)."""

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("blocked_until >= ends_at", name="blocked_covers_call"),
        CheckConstraint(
            "status IN ('active', 'cancelled', 'completed', 'no_show')", name="status_known"
        ),
        Index("ix_booking_client_key_starts", "client_key", "starts_at"),
        # Both databases: never two active calls starting at the same instant.
        Index(
            "uq_booking_active_start",
            "starts_at",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The call's end plus the owner's buffer: the span the overlap rule protects.
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="active", server_default="active")
    visitor_timezone: Mapped[str] = mapped_column(String(64))
    owner_timezone: Mapped[str] = mapped_column(String(64))
    # The details given with this booking, as typed; the lead keeps its own.
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    company: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    company_size: Mapped[str] = mapped_column(String(20))
    consent_version: Mapped[str] = mapped_column(String(40))
    # A keyed hash of the client's address (never the address): caps bookings per client.
    client_key: Mapped[str | None] = mapped_column(String(64))
    situation: Mapped[list[str]] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(Text, default="")
    # E.164, asked for only when the owner calls the visitor (location "phone:owner-calls").
    phone: Mapped[str | None] = mapped_column(String(40))
    source_article: Mapped[str | None] = mapped_column(String(200))
    attribution: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fit_score: Mapped[int] = mapped_column(Integer, default=0)
    suggested_engagement: Mapped[str] = mapped_column(String(20))
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the visitor wrote when cancelling; None when they wrote nothing.
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    lead: Mapped[Lead] = relationship(back_populates="bookings")
    links: Mapped[list["BookingLink"]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", passive_deletes=True
    )


class BookingLink(db.Model):
    """A private link that manages one booking. Only the SHA-256 of its token is stored, so
    a copy of the database holds no working link. A link works until it is revoked or the
    booking's call ended more than a set number of days ago."""

    __tablename__ = "booking_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    booking: Mapped[Booking] = relationship(back_populates="links")


class OutboxMessage(db.Model):
    """An email waiting to go out: written in the transaction that caused it, sent later.

    `channel` "caldav" is a write of the booking into the owner's CalDAV calendar instead:
    it carries no text, since the sender writes the booking as it is when it is sent."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "send_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("lead.id", ondelete="CASCADE"), index=True
    )
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20), default="email", server_default="email")
    to_address: Mapped[str] = mapped_column(String(320))
    reply_to: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    # [{"filename": ..., "content_type": ..., "content": ...}] (text attachments: .ics)
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # Bookings whose private links this message carries. Links are made when it is sent
    # (the stored text holds a placeholder), so the outbox holds no working link either.
    link_booking_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    send_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarFeed(db.Model):
    """A private iCalendar feed of the owner's (a calendar's "secret address"), read every
    few minutes for busy times. A failed read keeps the last good copy (`body`) and its
    intervals. The URL is a secret: it is never logged or shown in full."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    # Validators of the last good copy, for a conditional GET.
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str | None] = mapped_column(Text)
    event_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    busy_intervals: Mapped[list["BusyInterval"]] = relationship(
        back_populates="feed", cascade="all, delete-orphan", passive_deletes=True
    )


class BusyInterval(db.Model):
    """A span in which the owner is busy elsewhere, over the booking horizon: from a feed
    (`feed_id`) or from the CalDAV calendar (`source` "caldav"). Slots subtract these plus
    the buffer."""

    __tablename__ = "busy_interval"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_busy_interval_span", "starts_at", "ends_at"),
        Index("ix_busy_interval_source", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # "feed" | "caldav"
    feed_id: Mapped[int | None] = mapped_column(
        ForeignKey("calendar_feed.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    feed: Mapped[CalendarFeed | None] = relationship(back_populates="busy_intervals")
