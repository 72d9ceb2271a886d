"""`/book`: step one picks a time in the visitor's zone, step two gives the details."""

from flask import current_app, redirect, render_template, request, session, url_for
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from blueprints.booking import bp
from blueprints.booking.forms import CONSENT_VERSION, BookingForm
from blueprints.booking.helpers import (
    SLOT_MESSAGES,
    PickerLinks,
    parse_slot,
    signal_groups,
    signal_source,
    signals_of,
    slot_value,
    valid_timezone,
)
from blueprints.booking.mail import plan_emails
from domain.booking.availability import last_known_rules, load_rules
from domain.booking.calls import (
    EMAILS_OWED_KIND,
    BookingLimitReached,
    BookingLimits,
    BookingRequest,
    SlotUnavailable,
    book_call,
    busy_bookings,
    current_settings,
    pay_owed_emails,
    pay_owed_emails_of,
    repeat_and_settings,
    slot_problem_at,
)
from domain.booking.links import mint_link
from domain.booking.location import LocationError, load_location, normalise_phone
from domain.booking.picker import LastUsed, cached_month_picker, parse_day, parse_month
from domain.booking.slots import available_slots, slot_problem
from domain.booking.stamp import current_stamp
from domain.booking.timezones import choice_label, zone_options
from domain.booking.tokens import client_key, render_stamp, seconds_since_render, utc_now
from domain.leads.attribution import attribution_record
from domain.mail.outbox import OWED_BATCH_PAYERS, OWED_PAYERS
from domain.platform.database import rollback_quietly, unreachable
from extensions import db, limiter, metrics, outbox_delivery
from fast_pages import follow_cta


def pay_booking_debt(session, booking_id: int, now):
    """What the outbox calls for a booking whose request died before composing its emails."""
    return pay_owed_emails(session, booking_id, plan_emails=plan_emails, now=now)


def pay_booking_debts(session, booking_ids: list[int], now) -> int:
    """The same for a sender's whole batch, in one write transaction."""
    return pay_owed_emails_of(session, booking_ids, plan_emails=plan_emails, now=now)


OWED_PAYERS[EMAILS_OWED_KIND] = pay_booking_debt
OWED_BATCH_PAYERS[EMAILS_OWED_KIND] = pay_booking_debts
PREFILL_FIELDS = ("name", "email", "company", "role", "company_size", "message")
FORM_KEYS_KEPT = 5  # submission keys this browser was given, for replays of its own forms


def library():
    return current_app.extensions["library"]


def source_slug() -> str | None:
    slug = request.args.get("article")
    return slug if slug and library().article(slug) else None


def open_slots(rules, now):
    return available_slots(rules, busy_bookings(db.session, rules, now), now)


_SETTINGS = LastUsed(4)  # (rules, call location) by availability stamp


def stamped_settings():
    """(stamp, rules, location): the settings looked up once per change of the availability
    stamp (which every save of them changes), so a page costs one query, not two."""
    stamp = current_stamp(db.session)
    settings = _SETTINGS.get(stamp)
    if settings is None:
        settings = current_settings(db.session)
        _SETTINGS.put(stamp, settings)
    return stamp, *settings


@bp.get("/book")
def book():
    now = utc_now()
    slot = parse_slot(request.args.get("slot"))
    if slot is None:
        return render_picker(now)
    rules = load_rules(db.session)
    slug = source_slug()
    count_cta_click(slug)
    timezone = valid_timezone(request.args.get("timezone")) or rules.timezone
    form = BookingForm(formdata=None, data=prefill(slot, timezone))
    form.rendered.data = render_stamp(current_app.secret_key, now)
    remember_form_key(form.ensure_submission_key())
    return render_details(form, rules, now, slug, timezone, slot)


def remember_form_key(key: str) -> None:
    """The session that was given a form may see its confirmation again on a replay."""
    keys = [k for k in session.get("form_keys", []) if k != key]
    session["form_keys"] = [*keys, key][-FORM_KEYS_KEPT:]


def show_repeat(booking):
    """A reload, double click or retry of a booking already made: book nothing. Only the
    browser the form was given to sees the confirmation again (through a new link)."""
    if booking.submission_key not in session.get("form_keys", []):
        return render_template("booking/already_received.html"), 200
    token = mint_link(db.session, booking, utc_now())
    db.session.commit()
    return redirect(url_for("booking.confirmed", token=token), code=303)


_PAGES = LastUsed(64)  # whole step-one pages (about 40 kB each), by view and links


def render_picker(now):
    """Step one. The page holds nothing of the visitor's own but the picker's parameters
    (all in the key) and flashed messages, so it is rendered once per view and reused
    until the stamp or the minute changes; a page with messages is rendered afresh."""
    stamp, rules, location = stamped_settings()
    slug = source_slug()
    count_cta_click(slug)
    timezone = valid_timezone(request.args.get("timezone")) or rules.timezone
    context = picker_context(stamp, rules, now, slug, timezone)
    personal = bool(session.get("_flashes"))
    page = None if personal else _PAGES.get(context["fragment_key"])
    if page is None:
        page = render_template(
            "booking/pick_time.html",
            article=library().article(slug) if slug else None,
            call_minutes=rules.call_minutes,
            location=location,
            **context,
        )
        if not personal:
            _PAGES.put(context["fragment_key"], page)
    return page


_FRAGMENTS = LastUsed(256)  # rendered calendar and times, by view and links


def picker_context(stamp, rules, now, slug, timezone) -> dict:
    """What the page around the calendar needs, and the calendar and times themselves
    (`picker_html`), rendered once per view and set of links while the view holds."""
    key, view = cached_month_picker(
        db.session,
        stamp,
        rules,
        now,
        timezone,
        month=parse_month(request.args.get("month")),
        day=parse_day(request.args.get("day")),
    )
    passthrough = {k: v for k, v in request.args.items(multi=False) if k in PREFILL_FIELDS}
    keep = dict(passthrough, article=slug, situation=request.args.getlist("situation"))
    links = PickerLinks(url_for("booking.book"), keep, timezone)
    fragment_key = (key, links.prefix)
    html = _FRAGMENTS.get(fragment_key)
    if html is None:
        shown = view.times[0] if view.times else key[1]
        html = Markup(
            render_template(
                "booking/_picker.html",
                view=view,
                timezone=timezone,
                zone_text=choice_label(shown, timezone),
                links=links,
            )
        )
        _FRAGMENTS.put(fragment_key, html)
    return {
        "view": view,
        "timezone": timezone,
        "zone_options": zone_options(now.date(), timezone),
        "keep": keep,
        "picker_html": html,
        "fragment_key": fragment_key,
    }


@bp.get("/book/times")
def times():
    """The calendar and times alone, for the picker script to swap in without a reload."""
    now = utc_now()
    stamp, rules, _ = stamped_settings()
    slug = source_slug()
    timezone = valid_timezone(request.args.get("timezone")) or rules.timezone
    html = picker_context(stamp, rules, now, slug, timezone)["picker_html"]
    return html, 200, {"Vary": "Cookie", "Content-Type": "text/html; charset=utf-8"}


def prefill(slot, timezone) -> dict:
    values = {name: request.args.get(name, "")[:2000] for name in PREFILL_FIELDS}
    return {
        **values,
        "situation": request.args.getlist("situation"),
        "slot": slot_value(slot),
        "timezone": timezone,
    }


def render_details(form, rules, now, slug, timezone, slot, *, alternatives=(), status=200):
    article = signal_source(library(), slug)
    form.situation.choices = [SelectChoice(s.key, s.label) for s in signals_of(article)]
    return render_template(
        "booking/details.html",
        form=form,
        slot=slot,
        timezone=timezone,
        zone_label=choice_label(slot or now, timezone),
        owner_zone=choice_label(slot or now, rules.timezone),
        owner_timezone=rules.timezone,
        call_minutes=rules.call_minutes,
        slug=slug,
        groups=signal_groups(article),
        alternatives=alternatives,
        slot_value=slot_value,
        location=shown_location(),
    ), status


def shown_location():
    """Where the call happens, or None ("will follow by email") while the database is down."""
    try:
        return load_location(db.session)
    except Exception as error:
        if not unreachable(error):
            raise
        rollback_quietly(db.session)
        return None


@bp.post("/book")
@limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"])
def submit():
    try:
        return submit_booking()
    except Exception as error:
        if not unreachable(error):
            raise
        current_app.logger.error("booking not saved: the database is unavailable")
        return form_while_database_is_down()


def form_while_database_is_down():
    """The form again with every answer, when nothing could be saved: 503, try again."""
    rollback_quietly(db.session)
    slug = source_slug()
    form = BookingForm()
    form.form_errors.append(
        "We could not save your booking just now: our booking system is not answering. "
        "Nothing was booked and your answers are kept below. Please send the form again "
        "in a minute."
    )
    rules = last_known_rules()
    timezone = valid_timezone(form.timezone.data) or rules.timezone
    page, status = render_details(
        form, rules, utc_now(), slug, timezone, parse_slot(form.slot.data), status=503
    )
    return page, status, {"Retry-After": str(current_app.config["RETRY_AFTER_SECONDS"])}


def submit_booking():
    now = utc_now()
    slug = source_slug()
    form = BookingForm(check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"])
    article = signal_source(library(), slug)
    signals = {s.key: s for s in signals_of(article)}
    form.situation.choices = [SelectChoice(key, s.label) for key, s in signals.items()]
    if form.website.data:
        # A honeypot only a bot fills in: look like success, write nothing.
        current_app.logger.info("booking dropped: honeypot filled")
        return render_template("booking/received.html")
    repeat, rules, location = repeat_and_settings(db.session, form.ensure_submission_key())
    if repeat is not None:
        return show_repeat(repeat)
    timezone = valid_timezone(form.timezone.data) or rules.timezone
    form.timezone.data = timezone
    slot = parse_slot(form.slot.data)
    if too_fast(form, now):
        form.form_errors.append(
            "That was quicker than we expected from a person. Please check your answers "
            "and send the form again."
        )
        form.rendered.data = render_stamp(current_app.secret_key, now)
        return render_details(form, rules, now, slug, timezone, slot, status=400)
    valid = form.validate()
    phone = visitor_phone(form, location)
    valid = valid and not form.phone.errors
    # A valid form goes straight to book_call, whose check under the lock is the one that
    # counts; an invalid one is checked here too, so the visitor sees every problem at once.
    problem = slot_error(slot, rules, now, check_busy=not valid)
    if not valid or problem:
        return redisplay(form, rules, now, slug, timezone, slot, problem, status=400)
    booking_request = BookingRequest(
        name=form.name.data.strip(),
        email=form.email.data.strip(),
        company=form.company.data.strip(),
        role=form.role.data.strip(),
        company_size=form.company_size.data,
        signals=tuple(signals[key] for key in form.situation.data if key in signals),
        message=(form.message.data or "").strip(),
        consent_version=CONSENT_VERSION,
        start=slot,
        visitor_timezone=timezone,
        submission_key=form.submission_key.data,
        source_article=slug,
        attribution=attribution_record(session.get("visit"), slug),
        client_key=client_key(current_app.secret_key, request.remote_addr or ""),
        phone=phone,
    )
    try:
        # With an inline sender the emails are composed by it, after this answer.
        planner = None if outbox_delivery.active else plan_emails
        booked = book_call(
            db.session, booking_request, now=now, plan_emails=planner, limits=booking_limits()
        )
    except SlotUnavailable as error:
        message = SLOT_MESSAGES.get(error.code, SLOT_MESSAGES["taken"])
        return redisplay(form, rules, now, slug, timezone, slot, message, status=409)
    except BookingLimitReached as error:
        refuse_over_limit(form, error)
        return redisplay(form, rules, now, slug, timezone, slot, None, status=429)
    if not booked.created:
        return show_repeat(booked.booking)
    metrics.count_booking(slug)
    outbox_delivery.soon(booking_id=booked.booking_id)
    return redirect(url_for("booking.confirmed", token=booked.token), code=303)


def visitor_phone(form, location) -> str | None:
    """The visitor's number in E.164 when the owner calls them (then it is required);
    otherwise nothing is kept, whatever was sent."""
    if location is None or not location.owner_calls:
        return None
    if form.phone.errors:
        return None
    if not form.phone.data:
        form.phone.errors = ["Please give the number Saed should call, with its country code."]
        return None
    try:
        return normalise_phone(form.phone.data)
    except LocationError as error:
        form.phone.errors = [str(error)]
        return None


def booking_limits() -> BookingLimits:
    config = current_app.config
    return BookingLimits(
        per_email=config["BOOKING_MAX_UPCOMING_PER_EMAIL"],
        per_client=config["BOOKING_MAX_UPCOMING_PER_CLIENT"],
    )


def refuse_over_limit(form, error: BookingLimitReached) -> None:
    if error.kind == "email":
        form.email.errors = [
            *form.email.errors,
            f"This address already has {error.limit} upcoming calls booked, the most we take "
            "at once. To move or cancel one, use the link in its confirmation email, or ask "
            "for your links again below.",
        ]
    else:
        form.form_errors.append(
            f"{error.limit} upcoming calls have already been booked from your connection, "
            "the most we take at once. Please cancel one first, or reply to one of your "
            "confirmation emails."
        )


def redisplay(form, rules, now, slug, timezone, slot, slot_message, *, status):
    """The form again with its errors and every answer; other times when the slot failed."""
    if slot_message:
        form.slot.errors = [*form.slot.errors, slot_message]
    alternatives = alternatives_after(slot, rules, now) if slot_message else ()
    return render_details(
        form, rules, now, slug, timezone, slot, alternatives=alternatives, status=status
    )


def too_fast(form, now) -> bool:
    elapsed = seconds_since_render(current_app.secret_key, form.rendered.data, now)
    return elapsed is None or elapsed < current_app.config["BOOKING_MIN_SECONDS"]


def slot_error(slot, rules, now, *, check_busy: bool) -> str | None:
    """Why the slot cannot be booked: from the rules alone (past, outside hours…), and with
    `check_busy` also from the calls and busy times around it."""
    if slot is None:
        return "Please choose a time for the call."
    if check_busy:
        code = slot_problem_at(db.session, rules, now, slot)
    else:
        code = slot_problem(rules, (), now, slot)
    return SLOT_MESSAGES[code] if code else None


def alternatives_after(slot, rules, now, count: int = 12):
    """Free times from the chosen one on, so the visitor can pick again without retyping."""
    free = open_slots(rules, now)
    later = [moment for moment in free if slot is None or moment >= slot]
    return (later or free)[:count]


def count_cta_click(slug: str | None) -> None:
    """One call-to-action click per article per visit, however often the page reloads."""
    if follow_cta(session, slug):
        current_app.extensions["counters"].add(slug, "cta_clicks")


@bp.errorhandler(429)
def too_many_requests(error):
    return render_template("booking/too_many.html"), 429
