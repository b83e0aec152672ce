"""Tables of the approval engine: flows and their versions, requests, tasks, the action timeline,
carbon copies, signatures and stand-alone requests."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from office.extensions import db
from office.org.models import PathString
from office.timeutil import utcnow


class NodeType(enum.StrEnum):
    SINGLE = "single"  # one approver
    ALL = "all"  # 会签: every assignee must approve
    ANY = "any"  # 或签: the first approve or reject decides
    SEQUENTIAL = "sequential"  # 依次: one after the other
    CC = "cc"  # 抄送: notify, no decision


class RequestState(enum.StrEnum):
    RUNNING = "running"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"  # back with the drafter, who may resubmit
    WITHDRAWN = "withdrawn"


FINISHED_STATES = (RequestState.APPROVED, RequestState.REJECTED, RequestState.WITHDRAWN)


class TaskState(enum.StrEnum):
    PENDING = "pending"  # waiting for an earlier signer in the node
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"
    AUTO_PASSED = "auto_passed"


ACTIVE_TASK_STATES = (TaskState.PENDING, TaskState.OPEN)


class Flow(db.Model):
    """A flow template (审批流程); its definition lives in versions, a running request keeps its own."""

    __tablename__ = "approval_flow"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Which subject type may use it ("" = any).
    subject_type: Mapped[str] = mapped_column(String(40), default="")
    # Owning unit (None = available everywhere); otherwise units in its subtree.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    unit_path: Mapped[str | None] = mapped_column(PathString)
    active: Mapped[bool] = mapped_column(default=True)
    # No foreign key (it would be circular); always one of this flow's versions.
    current_version_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    current_version: Mapped[FlowVersion | None] = relationship(
        primaryjoin="foreign(Flow.current_version_id) == FlowVersion.id", viewonly=True)


class FlowVersion(db.Model):
    __tablename__ = "approval_flow_version"
    __table_args__ = (UniqueConstraint("flow_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("approval_flow.id"), index=True)
    number: Mapped[int] = mapped_column()
    definition_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    flow: Mapped[Flow] = relationship(primaryjoin="FlowVersion.flow_id == Flow.id")

    @property
    def definition(self) -> dict:
        return json.loads(self.definition_json)

    @property
    def nodes(self) -> list[dict]:
        return self.definition.get("nodes", [])


class ApprovalRequest(db.Model):
    """One run of a flow for a subject (a document, a form submission, a stand-alone request)."""

    __tablename__ = "approval_request"
    __table_args__ = (
        Index("ix_approval_request_subject", "subject_type", "subject_id"),
        Index("ix_approval_request_requester", "requester_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    requester_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requester_post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    unit_path: Mapped[str] = mapped_column(PathString, index=True)
    flow_version_id: Mapped[int] = mapped_column(ForeignKey("approval_flow_version.id"))
    state: Mapped[str] = mapped_column(String(20), default=RequestState.RUNNING)
    node_index: Mapped[int] = mapped_column(default=0)
    # Optimistic locking: every change bumps it; a form posts the version it was rendered with.
    version: Mapped[int] = mapped_column(default=1)
    fields_json: Mapped[str] = mapped_column(Text, default="{}")
    # Nodes up to this index have been entered before (after a return): never auto-passed.
    reentry_upto: Mapped[int] = mapped_column(default=-1)
    # Bumped each time a node is entered; tasks carry the entry they belong to.
    entry_no: Mapped[int] = mapped_column(default=0)
    # An approver has acted since the last submission (withdrawal is no longer possible).
    acted: Mapped[bool] = mapped_column(default=False)
    last_urged_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()

    flow_version: Mapped[FlowVersion] = relationship()
    requester = relationship("User", foreign_keys=[requester_id])
    unit = relationship("Unit")
    tasks: Mapped[list[Task]] = relationship(back_populates="request", order_by="Task.id",
                                             viewonly=True)

    @property
    def fields(self) -> dict:
        return json.loads(self.fields_json or "{}")

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES


class Task(db.Model):
    """One person's part in one node of a request (待办 while open)."""

    __tablename__ = "approval_task"
    __table_args__ = (
        Index("ix_approval_task_assignee_state", "assignee_id", "state"),
        Index("ix_approval_task_request_node", "request_id", "node_index", "state"),
        Index("ix_approval_task_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_request.id"))
    node_index: Mapped[int] = mapped_column()
    entry_no: Mapped[int] = mapped_column(default=0)
    # Order inside a node: the lowest seq with undecided tasks is the open wave.
    seq: Mapped[int] = mapped_column(default=0)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # The leader the assignee acts for (代理), if routed by delegation.
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    state: Mapped[str] = mapped_column(String(20), default=TaskState.OPEN)
    # How the task came to be: "flow", "before", "after", "alongside", "transfer", "admin".
    origin: Mapped[str] = mapped_column(String(20), default="flow")
    parent_task_id: Mapped[int | None] = mapped_column(ForeignKey("approval_task.id"))
    due_at: Mapped[datetime | None] = mapped_column()
    reminded_at: Mapped[datetime | None] = mapped_column()
    overdue_notified_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
    # Who actually decided (the assignee, the principal himself, or None for the system).
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    opinion: Mapped[str] = mapped_column(Text, default="")
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("approval_signature.id"))

    request: Mapped[ApprovalRequest] = relationship(back_populates="tasks")
    assignee = relationship("User", foreign_keys=[assignee_id])
    on_behalf_of = relationship("User", foreign_keys=[on_behalf_of_id])


class ApprovalAction(db.Model):
    """The timeline: every action on a request, with opinion and signature."""

    __tablename__ = "approval_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_request.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("approval_task.id"))
    node_index: Mapped[int | None] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    on_behalf_of_name: Mapped[str] = mapped_column(String(64), default="")
    opinion: Mapped[str] = mapped_column(Text, default="")
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("approval_signature.id"))
    detail_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def detail(self) -> dict:
        return json.loads(self.detail_json or "{}")


class CarbonCopy(db.Model):
    """A request copied (抄送) to a user for information."""

    __tablename__ = "approval_cc"
    __table_args__ = (UniqueConstraint("request_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_request.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    node_index: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()

    request: Mapped[ApprovalRequest] = relationship()


class Signature(db.Model):
    """A handwritten signature image (手写签名). The newest active one goes with each approval;
    older rows stay so earlier approvals keep the image they were signed with."""

    __tablename__ = "approval_signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    image: Mapped[bytes] = mapped_column(LargeBinary)
    mime: Mapped[str] = mapped_column(String(40), default="image/png")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StandaloneRequest(db.Model):
    """A stand-alone request (请示件): title, body, optional amount, with a chosen flow."""

    __tablename__ = "approval_standalone"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "draft" / "submitted" / "approved" / "rejected" / "returned" / "withdrawn"
    status: Mapped[str] = mapped_column(String(20), default="draft")


class StandaloneAttachment(db.Model):
    """A file of a stand-alone request, stored once under ``STORAGE_DIR/approvals/`` by its SHA-256."""

    __tablename__ = "approval_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    standalone_id: Mapped[int] = mapped_column(ForeignKey("approval_standalone.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(200))  # safe name; the extension matches the content
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    file_type: Mapped[str] = mapped_column(String(10))  # pdf / docx / xlsx / ofd / png / jpg
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
