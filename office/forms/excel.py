"""Excel download of a blank or filled form, and upload of a filled one (the same layout
round-trips; a wrong cell is named in the error)."""

from __future__ import annotations

import io

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from office.actor import Actor
from office.audit import service as audit
from office.errors import ValidationError
from office.forms.catalogue import parse_value
from office.forms.labels import source_label
from office.forms.models import Submission
from office.forms.tasks import form_view, get_submission, save

MARK = "OFFICE-FORM"
FIRST_ROW = 5  # rows 1-4: title, marker, blank, header
# A text cell starting with one of these is a formula (or becomes one in a CSV round-trip).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def append_row(ws, values) -> None:
    """Append a row where text is always text: a value a user typed ("=HYPERLINK(...)", "+1", "@SUM")
    is written as a string cell with Excel's quote prefix, never as a formula; numbers stay numbers."""
    ws.append([None if isinstance(v, str) and v.startswith(FORMULA_START) else v for v in values])
    row = ws.max_row
    for col, v in enumerate(values, start=1):
        if isinstance(v, str) and v.startswith(FORMULA_START):
            cell = ws.cell(row, col)
            cell.value = v
            cell.data_type = "s"
            cell.quotePrefix = True


def workbook_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export(sub: Submission, filled: bool = True) -> bytes:
    task = sub.task
    v = task.template_version
    wb = Workbook()
    ws = wb.active
    ws.title = _("Form")
    append_row(ws, [f"{v.template.name} · {task.period} · {sub.unit.name}"])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, [MARK, v.template.code, v.version, task.period, sub.unit.code, sub.id])
    ws.append([])
    append_row(ws, [_("Code"), _("Field"), _("Value"), _("Unit of measure"), _("Source")])
    for c in ws[4]:
        c.font = Font(bold=True)
    grey = PatternFill("solid", fgColor="EEEEEE")
    for title, fields in form_view(sub):
        append_row(ws, ["", title])
        ws.cell(ws.max_row, 2).font = Font(bold=True)
        for f in fields:
            p = f.prefill
            value = p.text if (filled and p) else ""
            if p and p.num is not None and filled and f.element.value_type in ("integer", "decimal", "percentage"):
                value = int(p.num) if f.element.value_type == "integer" else p.num
            append_row(ws, [f.code, f.label, value, f.element.unit_of_measure or "",
                            " · ".join(w for w in dict.fromkeys((source_label(p.source) if (filled and p) else "",
                                                                 _("Computed") if f.computed else "")) if w)])
            if f.computed:
                ws.cell(ws.max_row, 3).fill = grey
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 36
    ws.column_dimensions["C"].width = 16
    ws.column_dimensions["E"].width = 16
    return workbook_bytes(wb)


def download(actor: Actor, sub_id: int, filled: bool = True) -> tuple[str, bytes]:
    """(file name, workbook) of a submission the actor may see; the download is audited."""
    sub = get_submission(actor, sub_id)
    data = export(sub, filled=filled)
    name = f"{sub.task.template_version.template.code}-{sub.id}.xlsx"
    audit.record_download(actor, "form_submission", sub.id, name, unit_id=sub.unit_id)
    return name, data


def rollup_export(actor: Actor, task_id: int) -> tuple[str, bytes]:
    """(file name, workbook) of a task's roll-up over the actor's part of it; audited."""
    from office.forms import rollup
    from office.forms.tasks import get_task, scope_path

    t = get_task(actor, task_id)
    path = scope_path(actor, t)
    rows = [rollup.rollup(t, path)] + rollup.drilldown(t, path)
    codes = [f["element"] for f in t.template_version.fields()]
    wb = Workbook()
    ws = wb.active
    ws.title = _("Roll-up")
    append_row(ws, [_("Division"), _("Expected"), _("Submitted"), _("Approved")] + codes)
    for r in rows:
        append_row(ws, [r.name or _("Total"), r.progress.expected, r.progress.submitted, r.progress.approved]
                   + [r.values.get(c) for c in codes])
    name = f"task-{t.id}-rollup.xlsx"
    data = workbook_bytes(wb)
    audit.record_download(actor, "form_task", t.id, name, unit_id=t.issuing_unit_id)
    return name, data


def check_workbook(data: bytes) -> None:
    """An uploaded workbook is untrusted: size, zip bombs and DTDs are refused before openpyxl reads it
    (``FORMS_MAX_UPLOAD_MB``, default 10; at most 100 MB unpacked)."""
    from flask import current_app

    from office.ooxml import check_package

    max_in = int(current_app.config.get("FORMS_MAX_UPLOAD_MB", 10)) * 1024 * 1024
    check_package(data, kind=".xlsx", required=("[Content_Types].xml", "xl/workbook.xml"), max_in=max_in,
                  max_out=100 * 1024 * 1024)


def parse_upload(sub: Submission, data: bytes) -> dict[str, str]:
    """Values of a filled workbook by element code; errors name the cell (C7: ...)."""
    check_workbook(data)
    try:
        wb = load_workbook(io.BytesIO(data), data_only=True)
    except Exception:  # noqa: BLE001
        raise ValidationError(_("The file is not a readable Excel workbook.")) from None
    ws = wb.worksheets[0]
    v = sub.task.template_version
    if ws["A2"].value != MARK or ws["B2"].value != v.template.code:
        raise ValidationError(_("B2: this workbook is not a download of the form %(f)s.", f=v.template.name))
    if str(ws["C2"].value) != str(v.version):
        raise ValidationError(_("C2: the workbook is version %(a)s of the form, the report uses version %(b)s.",
                                a=ws["C2"].value, b=v.version))
    if str(ws["D2"].value) != sub.task.period:
        raise ValidationError(_("D2: the workbook is for period %(a)s, the report for %(b)s.",
                                a=ws["D2"].value, b=sub.task.period))
    fields = {f["element"]: f for f in v.fields()}
    from office.forms.values import form_elements

    els = form_elements(v)
    out: dict[str, str] = {}
    errors = []
    for row in range(FIRST_ROW, ws.max_row + 1):
        code = ws.cell(row, 1).value
        if code in (None, ""):
            continue
        code = str(code).strip()
        if code not in fields:
            errors.append(_("A%(r)d: %(c)s is not a field of this form", r=row, c=code))
            continue
        if fields[code].get("computed"):
            continue
        raw = ws.cell(row, 3).value
        if raw is None or str(raw).strip() == "":
            continue  # an empty cell leaves the stored value alone
        try:
            text, _num = parse_value(els[code], raw)
        except ValidationError as exc:
            errors.append(f"C{row}: {exc.message}")
            continue
        out[code] = text
    if errors:
        raise ValidationError(_("Nothing was saved. ") + "; ".join(errors))
    return out


def upload(actor: Actor, sub_id: int, data: bytes) -> Submission:
    sub = get_submission(actor, sub_id)
    posted = parse_upload(sub, data)
    return save(actor, sub_id, posted)
