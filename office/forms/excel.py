"""Excel download of a blank or filled form, and upload of a filled one (the same layout
round-trips; a wrong cell is named in the error)."""

from __future__ import annotations

import io

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from office.actor import Actor
from office.errors import ValidationError
from office.forms.catalogue import parse_value
from office.forms.models import Submission
from office.forms.tasks import form_view, get_submission, save

MARK = "OFFICE-FORM"
FIRST_ROW = 5  # rows 1-4: title, marker, blank, header


def export(sub: Submission, filled: bool = True) -> bytes:
    task = sub.task
    v = task.template_version
    wb = Workbook()
    ws = wb.active
    ws.title = "form"
    ws["A1"] = f"{v.template.name} · {task.period} · {sub.unit.name}"
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([MARK, v.template.code, v.version, task.period, sub.unit.code, sub.id])
    ws.append([])
    ws.append([_("Code"), _("Field"), _("Value"), _("Unit of measure"), _("Source")])
    for c in ws[4]:
        c.font = Font(bold=True)
    grey = PatternFill("solid", fgColor="EEEEEE")
    for title, fields in form_view(sub):
        ws.append(["", title])
        ws.cell(ws.max_row, 2).font = Font(bold=True)
        for f in fields:
            p = f.prefill
            value = p.text if (filled and p) else ""
            if p and p.num is not None and filled and f.element.value_type in ("integer", "decimal", "percentage"):
                value = int(p.num) if f.element.value_type == "integer" else p.num
            ws.append([f.code, f.label, value, f.element.unit_of_measure or "",
                       (p.source if (filled and p) else "") + (" (computed)" if f.computed else "")])
            if f.computed:
                ws.cell(ws.max_row, 3).fill = grey
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 36
    ws.column_dimensions["C"].width = 16
    ws.column_dimensions["E"].width = 16
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def parse_upload(sub: Submission, data: bytes) -> dict[str, str]:
    """Values of a filled workbook by element code; errors name the cell (C7: ...)."""
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
