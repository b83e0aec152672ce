"""Tables of the document flow: documents and their revisions, issuers and recipients, numbers,
distributions and receipts with their handling steps, attachments and archive records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from office.extensions import db
from office.org.models import PathString
from office.timeutil import utcnow

# The 15 types of the Regulations on Handling Official Documents of Party and Government Organs (2012).
DOC_TYPES = ("决议", "决定", "命令", "公报", "公告", "通告", "意见", "通知", "通报", "报告", "请示", "批复",
             "议案", "函", "纪要")
URGENCIES = ("", "加急", "特急")
CLASSIFIED = ("秘密", "机密", "绝密")


class DocState:
    DRAFT = "draft"            # 拟稿 (also after a return, with return_reason set)
    REVIEW = "review"          # 审核 by the general office
    COUNTERSIGN = "countersign"  # 会签 by the co-issuers
    SIGNOFF = "signoff"        # 签发 by the leader
    SIGNED = "signed"          # waiting for 复核
    CHECKED = "checked"        # 复核 done, waiting for the number
    NUMBERED = "numbered"      # 编号 done, waiting for the seal
    SEALED = "sealed"          # 用印 done, waiting for distribution
    DISTRIBUTED = "distributed"
    ARCHIVED = "archived"

    ALL = (DRAFT, REVIEW, COUNTERSIGN, SIGNOFF, SIGNED, CHECKED, NUMBERED, SEALED, DISTRIBUTED, ARCHIVED)
    EDITABLE = (DRAFT, REVIEW, COUNTERSIGN, SIGNOFF, SIGNED, CHECKED)


class ReceiptState:
    DELIVERED = "delivered"    # 待签收
    SIGNED = "signed"          # 已签收
    REGISTERED = "registered"  # 已登记
    HANDLING = "handling"      # 办理中 (拟办/批办/承办)
    DONE = "done"              # 办结
    RETURNED = "returned"      # 退文
    RECALLED = "recalled"      # 撤回

    OPEN = (DELIVERED, SIGNED, REGISTERED, HANDLING)
    SIGNED_FOR = (SIGNED, REGISTERED, HANDLING, DONE)


class Document(db.Model):
    __tablename__ = "doc_document"
    __table_args__ = (
        Index("ix_doc_document_path_state", "path", "state"),
        Index("ix_doc_document_lead_year", "lead_unit_id", "number_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(8), default="down")  # down / up / across
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    # Copy of the lead unit's path: scope without a join.
    path: Mapped[str] = mapped_column(PathString)
    drafter_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    drafter_name: Mapped[str] = mapped_column(String(64), default="")
    number_prefix: Mapped[str] = mapped_column(String(40), default="")
    number_year: Mapped[int | None] = mapped_column()
    number_seq: Mapped[int | None] = mapped_column()
    doc_number: Mapped[str | None] = mapped_column(String(80), unique=True)
    urgency: Mapped[str] = mapped_column(String(8), default="")
    sensitivity: Mapped[str] = mapped_column(String(16), default="")
    signer_name: Mapped[str] = mapped_column(String(64), default="")  # 签发人 (upward documents)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_at: Mapped[datetime | None] = mapped_column()
    sign_opinion: Mapped[str] = mapped_column(Text, default="")
    # Fingerprint of what the signer saw; a different fingerprint at 复核 goes back to him.
    signed_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    # The approval request (office.approvals) the sign-off runs in, and the signer's signature image
    # there (plain integers: approvals' tables are approvals' own).
    signoff_request_id: Mapped[int | None] = mapped_column()
    sign_signature_id: Mapped[int | None] = mapped_column()
    # 审核: who passed the review, with opinion, time and his stored signature (approvals' id).
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewer_name: Mapped[str] = mapped_column(String(64), default="")
    reviewed_at: Mapped[datetime | None] = mapped_column()
    review_opinion: Mapped[str] = mapped_column(Text, default="")
    review_signature_id: Mapped[int | None] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")  # 附注
    printing_organ: Mapped[str] = mapped_column(String(120), default="")
    printing_date: Mapped[date | None] = mapped_column(Date)
    due_days: Mapped[int | None] = mapped_column()  # handling deadline for recipients
    state: Mapped[str] = mapped_column(String(16), default=DocState.DRAFT, index=True)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("doc_document.id"), index=True)
    # A cover notice (转发) forwards the original document received through this receipt.
    # (plain integer: a foreign key would make a cycle between the two tables)
    forwards_receipt_id: Mapped[int | None] = mapped_column(index=True)
    forwards_document_id: Mapped[int | None] = mapped_column(ForeignKey("doc_document.id"), index=True)
    sealed_at: Mapped[datetime | None] = mapped_column()
    distributed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Overlapping character bigrams of title, number, issuers and body ("simple" tsvector on PG).
    search_tokens: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    lead_unit = relationship("Unit", foreign_keys=[lead_unit_id])
    issuers: Mapped[list[DocumentIssuer]] = relationship(
        back_populates="document", order_by="DocumentIssuer.position", cascade="all, delete-orphan")
    recipients: Mapped[list[DocumentRecipient]] = relationship(
        back_populates="document", order_by="DocumentRecipient.id", cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="document", order_by="Attachment.position", cascade="all, delete-orphan")

    @property
    def issuer_names(self) -> str:
        """The issuing organs in their order, joined by 、 (as document lists show them)."""
        return "、".join(i.unit.name for i in self.issuers)

    @property
    def is_joint(self) -> bool:
        return len(self.issuers) > 1

    def main_recipients(self):
        return [r for r in self.recipients if r.role == "main"]

    def cc_recipients(self):
        return [r for r in self.recipients if r.role == "cc"]


class DocumentIssuer(db.Model):
    """An issuing organ; position 0 is the lead (主办), the others co-issue (联合发文) and countersign."""

    __tablename__ = "doc_issuer"
    # The unit's index serves the outgoing list: the documents an organ issued.
    __table_args__ = (UniqueConstraint("document_id", "unit_id"),
                      Index("ix_doc_issuer_unit_document", "unit_id", "document_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("doc_document.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    position: Mapped[int] = mapped_column(default=0)
    countersigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    countersigned_name: Mapped[str] = mapped_column(String(64), default="")
    countersigned_at: Mapped[datetime | None] = mapped_column()
    countersign_opinion: Mapped[str] = mapped_column(Text, default="")
    countersign_signature_id: Mapped[int | None] = mapped_column()  # approvals' signature id

    document: Mapped[Document] = relationship(back_populates="issuers")
    unit = relationship("Unit")


class DocumentRecipient(db.Model):
    """A main recipient (主送) or copy (抄送); ``group_key`` tells which named group it came from."""

    __tablename__ = "doc_recipient"
    __table_args__ = (UniqueConstraint("document_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("doc_document.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    role: Mapped[str] = mapped_column(String(8), default="main")  # main / cc
    group_key: Mapped[str] = mapped_column(String(40), default="")

    document: Mapped[Document] = relationship(back_populates="recipients")
    unit = relationship("Unit")


class DocumentRevision(db.Model):
    """Every save of title and body is a revision; reviewers see the difference."""

    __tablename__ = "doc_revision"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("doc_document.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    author_name: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocNumberCounter(db.Model):
    """The last number given per issuing organ, prefix and year; incremented under a row lock."""

    __tablename__ = "doc_number_counter"
    __table_args__ = (UniqueConstraint("unit_id", "prefix", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    prefix: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column()
    last_value: Mapped[int] = mapped_column(default=0)


class DocNumber(db.Model):
    """Every number given out; a voided number keeps its reason and is never given again."""

    __tablename__ = "doc_number"
    __table_args__ = (UniqueConstraint("unit_id", "prefix", "year", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    prefix: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column()
    seq: Mapped[int] = mapped_column()
    number: Mapped[str] = mapped_column(String(80))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("doc_document.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column()
    void_reason: Mapped[str] = mapped_column(Text, default="")
    voided_by_name: Mapped[str] = mapped_column(String(64), default="")


class Distribution(db.Model):
    """One sending of a document (or of a cover notice forwarding it) to its recipients."""

    __tablename__ = "doc_distribution"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("doc_document.id"), index=True)
    root_document_id: Mapped[int] = mapped_column(ForeignKey("doc_document.id"), index=True)
    sender_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    parent_receipt_id: Mapped[int | None] = mapped_column()  # forwarding: the receipt forwarded
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    recipient_count: Mapped[int] = mapped_column(default=0)


class Receipt(db.Model):
    """A document at one recipient unit (收文): delivered, signed for, registered, handled."""

    __tablename__ = "doc_receipt"
    __table_args__ = (
        UniqueConstraint("distribution_id", "unit_id"),
        Index("ix_doc_receipt_unit_state", "unit_id", "state"),
        Index("ix_doc_receipt_root_state", "root_document_id", "state"),
        Index("ix_doc_receipt_path", "path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    distribution_id: Mapped[int] = mapped_column(ForeignKey("doc_distribution.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("doc_document.id"), index=True)
    # The original document a chain of forwards started from: the sender's status tree.
    root_document_id: Mapped[int] = mapped_column(ForeignKey("doc_document.id"))
    parent_receipt_id: Mapped[int | None] = mapped_column(ForeignKey("doc_receipt.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    path: Mapped[str] = mapped_column(PathString)  # the recipient unit's path
    level: Mapped[str] = mapped_column(String(12), default="")
    role: Mapped[str] = mapped_column(String(8), default="main")
    state: Mapped[str] = mapped_column(String(12), default=ReceiptState.DELIVERED)
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column()
    signed_for_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_for_by_name: Mapped[str] = mapped_column(String(64), default="")
    signed_at: Mapped[datetime | None] = mapped_column()
    reg_number: Mapped[str | None] = mapped_column(String(60))  # 收文编号
    registered_at: Mapped[datetime | None] = mapped_column()
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    assignee_name: Mapped[str] = mapped_column(String(64), default="")
    result: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column()
    return_reason: Mapped[str] = mapped_column(Text, default="")
    urged_at: Mapped[datetime | None] = mapped_column()
    urge_count: Mapped[int] = mapped_column(default=0)
    # The leader's instruction (批办) runs as an approval request in office.approvals.
    instruction_request_id: Mapped[int | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    document = relationship("Document", foreign_keys=[document_id])
    unit = relationship("Unit")


class HandlingStep(db.Model):
    """One step on a receipt: 签收, 登记, 拟办, 批办, 承办, 办结, 传阅 (with read tracking), 退文, 转发."""

    __tablename__ = "doc_handling_step"
    __table_args__ = (Index("ix_doc_step_target_read", "target_user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("doc_receipt.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    target_name: Mapped[str] = mapped_column(String(64), default="")
    read_at: Mapped[datetime | None] = mapped_column()
    signature_id: Mapped[int | None] = mapped_column()  # the leader's signature on a 批办 (approvals)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(db.Model):
    """A file of a document, stored once under STORAGE_DIR by its SHA-256."""

    __tablename__ = "doc_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("doc_document.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    file_type: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="attachments")


class ArchiveRecord(db.Model):
    """A filed document with its DA/T 22-2015 archive number (e.g. Z109-WS·2026-Y-BGS-0001)."""

    __tablename__ = "doc_archive"
    __table_args__ = (Index("ix_doc_archive_unit_year", "unit_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("doc_document.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    path: Mapped[str] = mapped_column(PathString)
    archive_number: Mapped[str] = mapped_column(String(80), unique=True)
    fonds: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column()
    retention: Mapped[str] = mapped_column(String(4))  # Y / D30 / D10
    org_code: Mapped[str] = mapped_column(String(20))
    item_no: Mapped[int] = mapped_column()
    pages: Mapped[int] = mapped_column(default=1)
    filed_by_name: Mapped[str] = mapped_column(String(64), default="")
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)

    document = relationship("Document")


class UnitDocSettings(db.Model):
    """How a unit runs its outgoing flow, set by its unit administrator. ``combine_duties``: a small
    office (a township with one clerk) lets one person draft and review, or review and sign off;
    every time it happens the exception is recorded and printed on the approval sheet."""

    __tablename__ = "doc_unit_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), unique=True)
    combine_duties: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    set_by_name: Mapped[str] = mapped_column(String(64), default="")
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocEvent(db.Model):
    """The document's own history (its timeline page); every event is also in the audit chain."""

    __tablename__ = "doc_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("doc_document.id", ondelete="CASCADE"), index=True)
    receipt_id: Mapped[int | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column()
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    unit_name: Mapped[str] = mapped_column(String(120), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
