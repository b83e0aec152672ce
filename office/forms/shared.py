"""Shared data: authoritative datasets (CSV or Excel) imported with a source name and as-of date.

Columns: ``division_code`` (or ``unit_code``), ``element_code``, ``period``, ``value``. A file is
imported whole or not at all; every bad row is reported with its line."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import insert, select

from office.actor import Actor
from office.audit import service as audit
from office.auth.scope import path_in_scope, scoped
from office.errors import PermissionDenied, ValidationError
from office.extensions import db
from office.forms.catalogue import PERIOD_RE, element_period, parse_value
from office.forms.models import DataElement, SharedDataset, SharedRow
from office.org.models import Unit, UnitKind
from office.timeutil import utcnow

MAX_ERRORS = 20


def read_table(data: bytes | str, filename: str = "") -> list[tuple[int, dict]]:
    """Rows of a CSV or Excel (.xlsx) file as (line, {header: text}); the header is line 1."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        from office.forms.excel import check_workbook

        check_workbook(data if isinstance(data, bytes) else data.encode())

        try:
            wb = load_workbook(io.BytesIO(data if isinstance(data, bytes) else data.encode()), read_only=True,
                               data_only=True)
        except Exception:  # noqa: BLE001 - any unreadable file is the user's problem
            raise ValidationError(_("The file is not a readable Excel workbook.")) from None
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = [str(h or "").strip() for h in next(it, [])]
        rows = []
        for i, r in enumerate(it, start=2):
            if r is None or all(c is None or str(c).strip() == "" for c in r):
                continue
            rows.append((i, {h: _cell(v) for h, v in zip(header, r, strict=False) if h}))
        return rows
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    reader = csv.DictReader(io.StringIO(text))
    return [(reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items() if k})
            for row in reader if any((v or "").strip() for v in row.values() if isinstance(v, str))]


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10]
    return str(v).strip()


def import_dataset(actor: Actor, *, name: str, source_name: str, as_of: date, data: bytes | str,
                   filename: str = "data.csv") -> SharedDataset:
    if not (actor.is_system or actor.has_role("unit_admin", "sys_admin")):
        raise PermissionDenied(_("Only administrators import shared data."))
    if not name.strip() or not source_name.strip() or as_of is None:
        raise ValidationError(_("A dataset needs a name, a source and an as-of date."))
    rows = read_table(data, filename)
    if not rows:
        raise ValidationError(_("The file has no rows."))
    cols = set(rows[0][1])
    if "element_code" not in cols or "period" not in cols or "value" not in cols or not (
            {"division_code", "unit_code"} & cols):
        raise ValidationError(_("line 1: the columns are division_code (or unit_code), element_code, period, value."))
    elements = {e.code: e for e in db.session.execute(select(DataElement)).scalars()}
    div_codes = {r.get("division_code", "") for _, r in rows} - {""}
    unit_codes = {r.get("unit_code", "") for _, r in rows} - {""}
    by_div = {}
    if div_codes:
        from office.org.models import Division

        q = select(Division.code, Unit).join(Unit, Unit.division_id == Division.id).where(
            Division.code.in_(div_codes), Unit.kind == UnitKind.GOVERNMENT)
        by_div = {c: u for c, u in db.session.execute(q)}
    by_unit = {u.code: u for u in db.session.execute(select(Unit).where(Unit.code.in_(unit_codes))).scalars()} \
        if unit_codes else {}
    errors: list[str] = []
    out = []
    seen: dict[tuple, int] = {}
    for line, r in rows:
        try:
            unit = by_unit.get(r.get("unit_code", "")) if r.get("unit_code") else by_div.get(r.get("division_code", ""))
            if unit is None:
                raise ValidationError(_("unknown division or unit %(c)s",
                                        c=r.get("unit_code") or r.get("division_code") or "''"))
            if not path_in_scope(actor, unit.path):
                raise ValidationError(_("%(u)s is outside your scope", u=unit.name))
            el = elements.get(r.get("element_code", ""))
            if el is None:
                raise ValidationError(_("unknown data element %(c)s", c=r.get("element_code") or "''"))
            period = r.get("period", "")
            if not PERIOD_RE.match(period):
                raise ValidationError(_("bad period %(p)s", p=period or "''"))
            period = element_period(el, period)
            text, num = parse_value(el, r.get("value", ""))
            if text == "":
                raise ValidationError(_("no value"))
            key = (el.id, unit.id, period)
            if key in seen:
                raise ValidationError(_("same element, unit and period as line %(l)d", l=seen[key]))
            seen[key] = line
            out.append(dict(element_id=el.id, unit_id=unit.id, period=period, value_text=text, value_num=num,
                            line=line))
        except ValidationError as exc:
            errors.append(_("line %(l)d: %(m)s", l=line, m=exc.message))
            if len(errors) >= MAX_ERRORS:
                break
    if errors:
        raise ValidationError(_("Nothing was imported. ") + "; ".join(errors))
    ds = SharedDataset(name=name.strip(), source_name=source_name.strip(), as_of=as_of, filename=filename[:200],
                       row_count=len(out), imported_by_id=actor.user_id, imported_by_name=actor.name,
                       imported_at=utcnow())
    db.session.add(ds)
    db.session.flush()
    for row in out:
        row["dataset_id"] = ds.id
    db.session.execute(insert(SharedRow), out)
    audit.record(actor, "forms.dataset_imported", object_type="form_dataset", object_id=ds.id,
                 after={"name": ds.name, "source": ds.source_name, "as_of": as_of.isoformat(), "rows": len(out)})
    db.session.commit()
    return ds


def list_datasets(limit: int = 100, actor: Actor | None = None) -> list[SharedDataset]:
    """The newest datasets; for an actor, only those holding values of units in his scope."""
    q = select(SharedDataset)
    if actor is not None and not actor.is_system:
        in_scope = scoped(select(SharedRow.id).join(Unit, Unit.id == SharedRow.unit_id)
                          .where(SharedRow.dataset_id == SharedDataset.id), Unit.path, actor)
        q = q.where(in_scope.exists())
    return list(db.session.execute(q.order_by(SharedDataset.imported_at.desc(), SharedDataset.id.desc())
                                   .limit(limit)).scalars())
