"""Async SQLite repository: reports, summaries, users, subscriptions, deliveries and search."""

from storage.models import (
    Delivery,
    NewReport,
    ReplyAttempt,
    SearchHit,
    SearchPage,
    SectionItem,
    StoredReport,
    Subscription,
    UnitCount,
    User,
)
from storage.repository import Repository

__all__ = [
    "Delivery",
    "NewReport",
    "ReplyAttempt",
    "Repository",
    "SearchHit",
    "SearchPage",
    "SectionItem",
    "StoredReport",
    "Subscription",
    "UnitCount",
    "User",
]
