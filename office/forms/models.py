"""Tables of the reporting forms: the data element catalogue, the one value store and its history,
shared datasets, versioned form templates, reporting tasks and submissions."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from office.extensions import db
from office.org.models import PathString, Unit
from office.timeutil import utcnow


class ValueType(enum.StrEnum):
    INTEGER = "integer"
    DECIMAL = "decimal"
    PERCENTAGE = "percentage"
    TEXT = "text"
    DATE = "date"
    YESNO = "yesno"
    CHOICE = "choice"


NUMERIC_TYPES = {ValueType.INTEGER, ValueType.DECIMAL, ValueType.PERCENTAGE, ValueType.YESNO}


class Aggregation(enum.StrEnum):
    SUM = "sum"
    AVERAGE = "average"
    MIN = "min"
    MAX = "max"
    NONE = "none"
    RATIO = "ratio"


class PeriodType(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    STATIC = "static"


class Source(enum.StrEnum):
    TYPED = "typed"  # typed by a person in a form
    SHARED = "shared"  # taken from a shared dataset (with its as-of date)
    FORM = "form"  # shown in another form than the one that wrote it (display only)
    CARRIED = "carried_forward"  # carried forward from the last period (prefill only)
    COMPUTED = "computed"  # computed from other fields
    CONFIRMED = "confirmed"  # confirmed unchanged from the last period
    IMPORTED = "excel"  # uploaded from a filled Excel form


class SubmissionState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


class DataElement(db.Model):
    """One thing that is measured, once, whatever form asks for it."""

    __tablename__ = "form_element"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    value_type: Mapped[str] = mapped_column(String(12))
    unit_of_measure: Mapped[str] = mapped_column(String(20), default="")
    aggregation: Mapped[str] = mapped_column(String(10), default=Aggregation.SUM)
    numerator_code: Mapped[str | None] = mapped_column(String(40))
    denominator_code: Mapped[str | None] = mapped_column(String(40))
    period_type: Mapped[str] = mapped_column(String(10), default=PeriodType.YEAR)
    # Slow-moving values (static elements, or flagged) are carried forward from the last period.
    carry_forward: Mapped[bool] = mapped_column(default=False)
    owner_function: Mapped[str] = mapped_column(String(20), default="")
    choices: Mapped[list] = mapped_column(JSON, default=list)
    definition: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<DataElement {self.code}>"


class DataValue(db.Model):
    """The only place a value lives: one row per (element, unit, period)."""

    __tablename__ = "form_value"
    __table_args__ = (
        UniqueConstraint("element_id", "unit_id", "period", name="uq_form_value_key"),
        Index("ix_form_value_period_element", "period", "element_id"),
        # A fill page reads one unit's values of a period or two.
        Index("ix_form_value_unit_period", "unit_id", "period", "element_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("form_element.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    period: Mapped[str] = mapped_column(String(10))
    value_text: Mapped[str] = mapped_column(String(400), default="")
    value_num: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))
    source_ref: Mapped[str] = mapped_column(String(200), default="")
    source_date: Mapped[date | None] = mapped_column(Date)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("form_dataset.id"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("form_template.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by_name: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    # Set while an approved submission covers the value: no change until it is returned.
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("form_submission.id"))

    element: Mapped[DataElement] = relationship()
    unit: Mapped[Unit] = relationship()


class ValueHistory(db.Model):
    __tablename__ = "form_value_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("form_value.id"), index=True)
    version: Mapped[int]
    old_text: Mapped[str | None] = mapped_column(String(400))
    new_text: Mapped[str] = mapped_column(String(400))
    source: Mapped[str] = mapped_column(String(20))
    source_ref: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SharedDataset(db.Model):
    """An authoritative dataset imported by an administrator (e.g. registered population)."""

    __tablename__ = "form_dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    source_name: Mapped[str] = mapped_column(String(120))
    as_of: Mapped[date] = mapped_column(Date)
    filename: Mapped[str] = mapped_column(String(200), default="")
    row_count: Mapped[int] = mapped_column(default=0)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    imported_by_name: Mapped[str] = mapped_column(String(64), default="")
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class SharedRow(db.Model):
    __tablename__ = "form_dataset_row"
    __table_args__ = (Index("ix_form_dataset_row_key", "element_id", "unit_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("form_dataset.id"), index=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("form_element.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    period: Mapped[str] = mapped_column(String(10))
    value_text: Mapped[str] = mapped_column(String(400))
    value_num: Mapped[float | None] = mapped_column(Float)
    line: Mapped[int] = mapped_column(default=0)


class FormTemplate(db.Model):
    __tablename__ = "form_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    owner_function: Mapped[str] = mapped_column(String(20), default="")
    period_type: Mapped[str] = mapped_column(String(10), default=PeriodType.QUARTER)
    current_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FormTemplateVersion(db.Model):
    """A frozen definition: sections, fields bound to elements, computed fields, rules.

    ``definition`` = {"sections": [{"title", "fields": [{"element", "label"?, "required"?, "min"?,
    "max"?, "computed"?: expr, "warn_change_pct"?: N}]}], "rules": [{"expr", "message", "severity"}]}
    """

    __tablename__ = "form_template_version"
    __table_args__ = (UniqueConstraint("template_id", "version", name="uq_form_template_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("form_template.id"))
    version: Mapped[int]
    definition: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    template: Mapped[FormTemplate] = relationship()

    def fields(self) -> list[dict]:
        return [f for s in self.definition.get("sections", []) for f in s.get("fields", [])]


class ReportTask(db.Model):
    __tablename__ = "form_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    template_version_id: Mapped[int] = mapped_column(ForeignKey("form_template_version.id"))
    issuing_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    path: Mapped[str] = mapped_column(PathString, index=True)  # the issuing unit's path
    period: Mapped[str] = mapped_column(String(10))
    deadline: Mapped[datetime]
    target: Mapped[str] = mapped_column(String(40), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("form_task.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    template_version: Mapped[FormTemplateVersion] = relationship()
    issuing_unit: Mapped[Unit] = relationship()


class Submission(db.Model):
    """One unit's report in a task. ``kind`` leaf: filled by the unit; rollup: an intermediate
    level (the county between the city's task and its townships) that reviews and reports up."""

    __tablename__ = "form_submission"
    __table_args__ = (
        UniqueConstraint("task_id", "unit_id", name="uq_form_submission_unit"),
        Index("ix_form_submission_task_state", "task_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("form_task.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    path: Mapped[str] = mapped_column(PathString, index=True)
    kind: Mapped[str] = mapped_column(String(10), default="leaf")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("form_submission.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default=SubmissionState.DRAFT)
    version: Mapped[int] = mapped_column(default=1)
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    review_note: Mapped[str] = mapped_column(Text, default="")
    warning_reason: Mapped[str] = mapped_column(Text, default="")
    # Workload meter (fields): total, prefilled and confirmed, prefilled but edited, typed.
    fields_total: Mapped[int] = mapped_column(default=0)
    fields_confirmed: Mapped[int] = mapped_column(default=0)
    fields_edited: Mapped[int] = mapped_column(default=0)
    fields_typed: Mapped[int] = mapped_column(default=0)
    # Per field: how it got its value in this submission ("confirmed", "edited", "typed").
    field_status: Mapped[dict] = mapped_column(JSON, default=dict)

    task: Mapped[ReportTask] = relationship()
    unit: Mapped[Unit] = relationship()
