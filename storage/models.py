"""SQLAlchemy 2.0 typed models: the tables freshness keeps.

Every datetime is stored as naive UTC and handed back timezone-aware, so SQLite and PostgreSQL
behave alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always UTC on the way in and timezone-aware on the way out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class OrganisationRow(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    profession: Mapped[str | None] = mapped_column(String(500))
    groups_url: Mapped[str | None] = mapped_column(Text)
    group_selector: Mapped[str | None] = mapped_column(Text)
    groups: Mapped[list[Any]] = mapped_column(default=list)
    links: Mapped[list[Any]] = mapped_column(default=list)
    check_every: Mapped[str | None] = mapped_column(String(50))
    listing_status: Mapped[str | None] = mapped_column(String(50))
    dead_since: Mapped[str | None] = mapped_column(String(20))
    # Secondary links accepted as dead, as "URL since DATE" (DirectoryEntry.dead_links).
    dead_links: Mapped[list[Any] | None] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    last_checked_at: Mapped[dt.datetime | None]
    discovered_at: Mapped[dt.datetime | None]  # last look for new organisations it links to


class ListedLinkRow(Base):
    __tablename__ = "listed_links"
    __table_args__ = (UniqueConstraint("org_id", "url", name="uq_listed_links_org_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[dt.datetime | None]
    consecutive_blocked: Mapped[int] = mapped_column(Integer, default=0)
    first_blocked_at: Mapped[dt.datetime | None]
    last_category: Mapped[str | None] = mapped_column(String(40))
    last_checked_at: Mapped[dt.datetime | None]
    last_ok_at: Mapped[dt.datetime | None]
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # The last soft-404 probe of this page's directory, kept while it proved the site answers
    # missing pages with a real 404, so revisits need not probe again (FRESHNESS_PROBE_TTL).
    probe: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ObservationRow(Base):
    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_link_fetched", "link_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("listed_links.id"))
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime]
    status: Mapped[int | None] = mapped_column(Integer)
    final_url: Mapped[str | None] = mapped_column(Text)
    redirect_chain: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    category: Mapped[str | None] = mapped_column(String(40))
    # The classifier's reasons, kept so a run can be judged from the store alone (distributed
    # and multi-process runs) without the full page text.
    evidence: Mapped[list[Any] | None] = mapped_column(JSON)
    confidence: Mapped[float | None] = mapped_column(Float)


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_status_kind", "status", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("listed_links.id"))
    kind: Mapped[str] = mapped_column(String(40))
    # What makes two findings "the same one": kind + org + subject (url, group name...).
    subject: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    url: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]
    snoozed_until: Mapped[dt.datetime | None]
    opened_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    resolved_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))


class DecisionRow(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime]
    reason: Mapped[str | None] = mapped_column(Text)


class OutboxRow(Base):
    """A digest for one notification target, kept until the target has it.

    The target is stored as ``target_key`` (a slow salted hash of its Apprise URL) and its
    masked URL, never the URL itself, which holds passwords and tokens; delivery finds the URL
    again among the configured targets. ``payload`` holds what to render: the finding ids
    routed to this target, the runs covered, and whether it is a heartbeat.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("run_id", "target_key", name="uq_outbox_run_target"),
        Index("ix_outbox_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    target_key: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(Text)  # masked, for people to read
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    generated_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    last_attempt_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
