"""The brief email: what the owner reads before a call (domain/leads/brief.py holds what
it says). It goes through the outbox, due a set time before the call."""

from domain.leads.brief import CallBrief
from domain.mail.emails import EmailDraft, format_call_time, short_call_time
from domain.mail.mailer import reply_to_address

BRIEF_KIND = "owner_brief"


def _section(heading: str, lines: list[str]) -> str:
    return "\n".join([heading, *(f"  {line}" for line in lines)])


def brief_text(brief: CallBrief, zone: str, where: str, lead_url: str) -> str:
    message = brief.message or "(no message)"
    earlier = [f"{call.start:%Y-%m-%d} ({call.status})" for call in brief.earlier_calls]
    notes = [f"{note.at:%Y-%m-%d}: {' '.join(note.body.split())}" for note in brief.notes]
    phone = [f"Phone: {brief.phone}"] if brief.phone else []
    who = f"{brief.name}, {brief.role} at {brief.company} ({brief.size})"
    touch = f"Last touch: {brief.last_touch}"
    sections = [
        f"When: {format_call_time(brief.start, brief.end, zone)}\nWhere: {where}",
        _section("Who is calling", [who, f"Email: {brief.email}", *phone]),
        _section(
            f"Fit {brief.fit_score}/100, suggested {brief.engagement}",
            [f"- {reason}" for reason in brief.fit_reasons],
        ),
        _section("What prompts the call", [f"- {s}" for s in brief.situation] or ["(none chosen)"]),
        _section("Their message", message.splitlines()),
        _section("Articles read", list(brief.articles_read) or ["none recorded"]),
        _section("Where they came from", [f"First touch: {brief.first_touch}", touch]),
        _section("Earlier calls", earlier or ["none"]),
        _section("Notes", notes or ["none"]),
        f"The lead's page: {lead_url}",
    ]
    return "\n\n".join(sections) + "\n"


def owner_brief(brief: CallBrief, *, to: str, zone: str, where: str, lead_url: str) -> EmailDraft:
    when = short_call_time(brief.start, zone)
    return EmailDraft(
        to=to,
        subject=f"Brief: {brief.name} ({brief.company}), {when}, fit {brief.fit_score}",
        body_text=brief_text(brief, zone, where, lead_url),
        reply_to=reply_to_address(brief.name, brief.email),
    )
