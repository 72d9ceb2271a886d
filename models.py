"""Every table of the site, SQLAlchemy 2.0 typed."""

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db


class ArticleDailyStat(db.Model):
    """Anonymous per-article, per-day counts: the top of each article's funnel."""

    __tablename__ = "article_daily_stat"

    slug: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    cta_clicks: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
