"""Input dataclasses the modules fill (documents, approvals, receipts, forms, archive).

Every input is plain data: ``to_json()`` is its canonical form, hashed with the template version
for the render cache. Image fields are paths on this server set by trusted code (seal and
signature images), never text typed by a user.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date


def _default(o):
    if isinstance(o, date):
        return o.isoformat()
    raise TypeError(type(o).__name__)


class _Json:
    kind = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, default=_default)


def cn_date(d: date | None) -> str:
    """GB/T 9704 dates: Arabic numerals, no leading zeros: 2026年11月21日."""
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


@dataclass
class Paragraph:
    text: str
    level: int = 0  # 0 plain paragraph; 1 一、 (黑体); 2 （一） (楷体); 3 1. ; 4 （1）
    heading_only: bool = False  # a level marker standing alone on its line (no run-in text)


@dataclass
class Issuer:
    name: str
    seal_png: str | None = None  # path of the seal image; None: unsealed


@dataclass
class OfficialDocument(_Json):
    """One GB/T 9704-2012 document (文件格式), or the letter (信函) and minutes (纪要) formats."""

    kind = "document"
    title: str
    issuers: list[Issuer]
    body: list[Paragraph]
    doc_number: str = ""  # 浙政发〔2026〕12号
    organ_mark: str = ""  # 发文机关标志, e.g. "浙江省人民政府文件"; default: first issuer + 文件
    main_recipients: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    signers: list[str] = field(default_factory=list)  # 签发人 (upward documents)
    sign_date: date | None = None
    urgency: str = ""  # 特急 / 加急
    sensitivity: str = ""  # 秘密★1年 ...
    copy_number: str = ""  # 份号, six digits
    printing_organ: str = ""
    print_date: date | None = None
    direction: str = "down"  # up / down / across
    note: str = ""  # 附注, e.g. （此件公开发布）
    format: str = "document"  # document / letter / minutes
    minutes_attendees: list[str] = field(default_factory=list)

    @property
    def mark(self) -> str:
        if self.organ_mark:
            return self.organ_mark
        if self.format == "minutes":
            return (self.issuers[0].name if self.issuers else "") + "纪要"
        if self.format == "letter":
            return self.issuers[0].name if self.issuers else ""
        return "".join(i.name for i in self.issuers[:1]) + "文件"

    @property
    def sealed(self) -> bool:
        return any(i.seal_png for i in self.issuers)


@dataclass
class Opinion:
    """One box of an approval sheet: who, what they said, when, and their signature image."""

    role: str  # 拟稿 / 核稿 / 会签 / 签发 ...
    name: str = ""
    unit: str = ""
    opinion: str = ""
    signed_at: str = ""  # already formatted: 2026年11月21日 or 2026-11-21 10:30
    signature_png: str | None = None


@dataclass
class OutgoingSheet(_Json):
    """发文稿纸."""

    kind = "outgoing_sheet"
    organ: str
    title: str
    doc_number: str = ""
    urgency: str = ""
    sensitivity: str = ""
    main_recipients: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    drafting_unit: str = ""
    copies: str = ""
    opinions: list[Opinion] = field(default_factory=list)  # 签发, 会签, 审核, 拟稿 in order
    attachments: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # 备注: e.g. a separated-duty exception


@dataclass
class ApprovalSheet(_Json):
    """审批单: a request (请示件, or any approval subject) with every approver's opinion in order."""

    kind = "approval_sheet"
    organ: str  # the requester's unit, printed in the heading
    title: str
    number: str = ""  # the request's number in the system
    requester: str = ""
    unit: str = ""
    submitted: str = ""  # already formatted
    flow: str = ""
    state: str = ""  # 审批中 / 已通过 / 已驳回 ...
    amount: str = ""
    body: str = ""
    attachments: list[str] = field(default_factory=list)
    opinions: list[Opinion] = field(default_factory=list)  # role = the step's name, in timeline order


@dataclass
class ReceiptSheet(_Json):
    """收文处理笺."""

    kind = "receipt_sheet"
    organ: str
    title: str
    from_organ: str = ""
    doc_number: str = ""
    received: str = ""
    receipt_number: str = ""
    urgency: str = ""
    sensitivity: str = ""
    proposed: str = ""  # 拟办意见
    instructions: list[Opinion] = field(default_factory=list)  # 领导批示
    result: str = ""  # 办理结果
    remarks: str = ""


@dataclass
class ReportForm(_Json):
    """A filled report form: a table with its unit, period, filler and reviewer."""

    kind = "report_form"
    title: str
    unit: str
    period: str
    columns: list[str]
    rows: list[list[str]]
    filler: str = ""
    reviewer: str = ""
    filled_on: date | None = None
    form_number: str = ""  # 表号
    notes: str = ""


@dataclass
class ArchiveEntry:
    number: str  # 档号
    responsible: str  # 责任者
    doc_number: str  # 文号
    title: str  # 题名
    date: str  # 日期 YYYYMMDD
    pages: int
    security: str = ""
    remarks: str = ""


@dataclass
class ArchiveCatalogue(_Json):
    """归档文件目录 (DA/T 22)."""

    kind = "archive_catalogue"
    fonds: str  # 全宗名称
    year: str
    retention: str  # 保管期限
    entries: list[ArchiveEntry] = field(default_factory=list)
    organ: str = ""


# --- back from JSON (the render job rebuilds its input from the stored payload) ---------------

KINDS: dict[str, type] = {}


def _register():
    for cls in (OfficialDocument, OutgoingSheet, ApprovalSheet, ReceiptSheet, ReportForm, ArchiveCatalogue):
        KINDS[cls.kind] = cls


def _build(tp, value):
    import dataclasses
    import types
    import typing

    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _build(args[0], value)
    if origin is list:
        (inner,) = typing.get_args(tp) or (typing.Any,)
        return [_build(inner, v) for v in value]
    if tp is date:
        return date.fromisoformat(value)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: _build(hints[f.name], value[f.name]) for f in dataclasses.fields(tp)
                     if f.name in value})
    return value


def from_json(kind: str, payload: str):
    if not KINDS:
        _register()
    return _build(KINDS[kind], json.loads(payload))
