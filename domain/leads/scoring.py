"""The fit score (0–100) and suggested engagement of a lead, from what the visitor said.

A plain function the owner can reason about: larger companies, senior roles, signals from
the article's "hire an architect" list and a considered message score higher; a free
webmail address scores lower, since the form asks for a work email.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

COMPANY_SIZES = [
    ("1-10", "1–10 people"),
    ("11-50", "11–50 people"),
    ("51-200", "51–200 people"),
    ("201-1000", "201–1,000 people"),
    ("1001-5000", "1,001–5,000 people"),
    ("5000+", "More than 5,000 people"),
]
SIZE_POINTS = {"1-10": 5, "11-50": 15, "51-200": 25, "201-1000": 30, "1001-5000": 35, "5000+": 35}
SENIOR_WORDS = (
    "founder",
    "owner",
    "chief",
    "ceo",
    "cto",
    "cio",
    "coo",
    "cfo",
    "cdo",
    "president",
    "partner",
    "vp",
    "vice president",
    "head",
    "director",
    "principal",
)
LEAD_WORDS = ("manager", "lead", "architect")
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "icloud.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "mail.com",
    }
)


@dataclass(frozen=True)
class Fit:
    score: int
    engagement: str  # "architect" or "engineer"


def role_points(role: str) -> int:
    # Whole words only, so "Headhunter" is not a head and "Leader" is not a lead.
    text = " " + " ".join(re.sub(r"[^a-z]+", " ", role.lower()).split()) + " "
    if any(f" {word} " in text for word in SENIOR_WORDS):
        return 25
    if any(f" {word} " in text for word in LEAD_WORDS):
        return 15
    return 5


def suggested_engagement(architect_signals: int, engineer_signals: int) -> str:
    # The consultant sells architecture: a tie or no signal at all still suggests it.
    return "engineer" if engineer_signals > architect_signals else "architect"


def fit_for(
    *,
    company_size: str,
    role: str,
    email: str,
    message: str,
    chosen_engagements: Iterable[str],
) -> Fit:
    """`chosen_engagements` has one entry ("architect"/"engineer") per chosen signal."""
    chosen = list(chosen_engagements)
    architect, engineer = chosen.count("architect"), chosen.count("engineer")
    score = SIZE_POINTS.get(company_size, 0) + role_points(role)
    score += min(architect * 8, 24) + min(engineer * 3, 9)
    message_length = len(message.strip())
    score += 10 if message_length >= 80 else 5 if message_length >= 20 else 0
    if email.rsplit("@", 1)[-1].lower() in FREE_MAIL_DOMAINS:
        score -= 10
    return Fit(score=max(0, min(100, score)), engagement=suggested_engagement(architect, engineer))
