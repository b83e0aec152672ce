"""The data element catalogue, value parsing, periods, and versioned form templates."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import String, select

from office.actor import Actor
from office.audit import service as audit
from office.errors import NotFound, ValidationError
from office.extensions import among, db
from office.forms import expr
from office.forms.models import (
    Aggregation,
    DataElement,
    FormTemplate,
    FormTemplateVersion,
    PeriodType,
    ValueType,
)

CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")
YES = {"1", "yes", "y", "true", "是", "有"}
NO = {"0", "no", "n", "false", "否", "无"}


# --- elements --------------------------------------------------------------------------------


def create_element(actor: Actor, *, code: str, name: str, value_type: str, unit_of_measure: str = "",
                   aggregation: str = "sum", period_type: str = "year", owner_function: str = "",
                   definition: str = "", numerator_code: str | None = None,
                   denominator_code: str | None = None, choices: list[str] | None = None,
                   carry_forward: bool | None = None, commit: bool = True) -> DataElement:
    if not CODE_RE.match(code or ""):
        raise ValidationError(_("Element code %(code)s: capital letters, digits and _ only.", code=code))
    if value_type not in set(ValueType):
        raise ValidationError(_("Unknown value type %(t)s.", t=value_type))
    if aggregation not in set(Aggregation):
        raise ValidationError(_("Unknown aggregation %(a)s.", a=aggregation))
    if period_type not in set(PeriodType):
        raise ValidationError(_("Unknown period type %(p)s.", p=period_type))
    if aggregation == Aggregation.RATIO:
        for c in (numerator_code, denominator_code):
            if not c or element_by_code(c, missing_ok=True) is None:
                raise ValidationError(_("A ratio needs existing numerator and denominator elements."))
    if value_type == ValueType.CHOICE and not choices:
        raise ValidationError(_("A choice element needs its choices."))
    if element_by_code(code, missing_ok=True) is not None:
        raise ValidationError(_("Element %(code)s exists already.", code=code))
    el = DataElement(code=code, name=name, value_type=value_type, unit_of_measure=unit_of_measure,
                     aggregation=aggregation, period_type=period_type, owner_function=owner_function,
                     definition=definition, numerator_code=numerator_code, denominator_code=denominator_code,
                     choices=list(choices or []),
                     carry_forward=(period_type == PeriodType.STATIC) if carry_forward is None else carry_forward)
    db.session.add(el)
    db.session.flush()
    audit.record(actor, "forms.element_created", object_type="form_element", object_id=el.id,
                 after={"code": code})
    if commit:
        db.session.commit()
    return el


def element_by_code(code: str, missing_ok: bool = False) -> DataElement | None:
    el = db.session.execute(select(DataElement).where(DataElement.code == code)).scalar_one_or_none()
    if el is None and not missing_ok:
        raise NotFound(_("No data element %(code)s.", code=code))
    return el


def elements_by_code(codes) -> dict[str, DataElement]:
    codes = list(codes)
    if not codes:
        return {}
    return {e.code: e for e in db.session.execute(select(DataElement).where(DataElement.code.in_(codes))).scalars()}


_ELEMENT_COLUMNS = tuple(DataElement.__table__.c)


def element_records(codes) -> dict:
    """The elements of ``codes`` by code, as read-only records (rows with the element's columns as
    attributes): what a page shows or computes with, without building and tracking one ORM object
    per field. The codes go as one array on PostgreSQL (the unique code index is the only way in)."""
    codes = list(codes)
    if not codes:
        return {}
    return {e.code: e for e in db.session.execute(select(*_ELEMENT_COLUMNS).where(
        among(DataElement.code, codes, String)))}


def list_elements() -> list[DataElement]:
    return list(db.session.execute(select(DataElement).order_by(DataElement.code)).scalars())


def parse_value(el: DataElement, raw) -> tuple[str, float | None]:
    """Canonical text and numeric value of ``raw`` for element ``el``; ValidationError if bad.
    Empty input gives ("", None)."""
    if raw is None:
        return "", None
    if isinstance(raw, float) and raw.is_integer() and el.value_type == ValueType.INTEGER:
        raw = int(raw)
    text = str(raw).strip().replace(",", "") if el.value_type in (
        ValueType.INTEGER, ValueType.DECIMAL, ValueType.PERCENTAGE) else str(raw).strip()
    if text == "":
        return "", None
    vt = el.value_type
    try:
        if vt == ValueType.INTEGER:
            if not re.fullmatch(r"-?\d+", text):
                raise ValueError
            n = int(text)
            return str(n), float(n)
        if vt in (ValueType.DECIMAL, ValueType.PERCENTAGE):
            if vt == ValueType.PERCENTAGE and text.endswith("%"):
                text = text[:-1]
            n = float(text)
            if n != n or n in (float("inf"), float("-inf")):
                raise ValueError
            if vt == ValueType.PERCENTAGE and not 0 <= n <= 100:
                raise ValueError
            return _fmt(n), n
        if vt == ValueType.YESNO:
            low = text.lower()
            if low in YES:
                return "yes", 1.0
            if low in NO:
                return "no", 0.0
            raise ValueError
        if vt == ValueType.DATE:
            if hasattr(raw, "isoformat") and not isinstance(raw, str):
                return raw.isoformat()[:10], None
            return date.fromisoformat(text).isoformat(), None
        if vt == ValueType.CHOICE:
            if text not in (el.choices or []):
                raise ValueError
            return text, None
        if len(text) > 400:
            raise ValueError
        return text, None
    except ValueError:
        raise ValidationError(_("%(value)s is not a valid %(type)s for %(name)s.",
                                value=str(raw)[:40], type=_type_label(el), name=el.name)) from None


def _fmt(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else f"{n:.6f}".rstrip("0").rstrip(".")


def _type_label(el: DataElement) -> str:
    labels = {"integer": _("whole number"), "decimal": _("number"), "percentage": _("percentage (0-100)"),
              "text": _("text"), "date": _("date (YYYY-MM-DD)"), "yesno": _("yes/no"),
              "choice": _("choice (%(c)s)", c="/".join(el.choices or []))}
    return labels.get(el.value_type, el.value_type)


# --- periods -----------------------------------------------------------------------------------

PERIOD_RE = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|Q([1-4]))?$")


def check_period(period: str) -> str:
    if not PERIOD_RE.match(period or ""):
        raise ValidationError(_("Bad period %(p)s (expected 2025, 2025Q3 or 2025-07).", p=period))
    return period


def previous_period(period: str) -> str:
    m = PERIOD_RE.match(period)
    year = int(m.group(1))
    if m.group(2):
        month = int(m.group(2))
        return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    if m.group(3):
        q = int(m.group(3))
        return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"
    return str(year - 1)


def element_period(el: DataElement, period: str) -> str:
    """The period under which ``el`` is stored for a form of ``period`` (a year element in a
    quarterly form is the year's value; static and finer elements use the form's period)."""
    m = PERIOD_RE.match(period)
    if el.period_type == PeriodType.YEAR:
        return m.group(1)
    if el.period_type == PeriodType.QUARTER and m.group(2):
        return f"{m.group(1)}Q{(int(m.group(2)) - 1) // 3 + 1}"
    return period


# --- templates ---------------------------------------------------------------------------------


def validate_definition(definition: dict) -> dict:
    sections = definition.get("sections")
    if not isinstance(sections, list) or not sections:
        raise ValidationError(_("A form needs at least one section."))
    codes: list[str] = []
    for s in sections:
        if not s.get("fields"):
            raise ValidationError(_("Section %(t)s has no fields.", t=s.get("title", "")))
        for f in s["fields"]:
            codes.append(f.get("element", ""))
    if len(codes) != len(set(codes)):
        raise ValidationError(_("An element appears twice in the form."))
    els = elements_by_code(codes)
    missing = [c for c in codes if c not in els]
    if missing:
        raise ValidationError(_("Unknown data element(s): %(c)s.", c=", ".join(missing)))
    known = set(codes)
    for s in sections:
        for f in s["fields"]:
            if f.get("computed"):
                unknown = expr.names(f["computed"]) - known
                if unknown:
                    raise ValidationError(_("Computed field %(f)s uses %(n)s, which is not in the form.",
                                            f=f["element"], n=", ".join(sorted(unknown))))
    for r in definition.get("rules", []):
        unknown = expr.names(r.get("expr", "")) - known
        if unknown:
            raise ValidationError(_("Rule %(r)s uses %(n)s, which is not in the form.",
                                    r=r.get("expr"), n=", ".join(sorted(unknown))))
        if r.get("severity", "error") not in ("error", "warning"):
            raise ValidationError(_("A rule is an error or a warning."))
    return definition


def create_template(actor: Actor, *, code: str, name: str, definition: dict, owner_function: str = "",
                    period_type: str = "quarter", commit: bool = True) -> FormTemplateVersion:
    if not CODE_RE.match(code or ""):
        raise ValidationError(_("Form code %(code)s: capital letters, digits and _ only.", code=code))
    if db.session.execute(select(FormTemplate.id).where(FormTemplate.code == code)).first():
        raise ValidationError(_("Form %(code)s exists already.", code=code))
    validate_definition(definition)
    t = FormTemplate(code=code, name=name, owner_function=owner_function, period_type=period_type,
                     current_version=1)
    db.session.add(t)
    db.session.flush()
    v = FormTemplateVersion(template_id=t.id, version=1, definition=definition)
    db.session.add(v)
    db.session.flush()
    audit.record(actor, "forms.template_created", object_type="form_template", object_id=t.id,
                 after={"code": code, "version": 1})
    if commit:
        db.session.commit()
    return v


def new_template_version(actor: Actor, template: FormTemplate, definition: dict) -> FormTemplateVersion:
    """A new version; tasks and submissions keep the version they were issued with."""
    validate_definition(definition)
    template.current_version += 1
    v = FormTemplateVersion(template_id=template.id, version=template.current_version, definition=definition)
    db.session.add(v)
    db.session.flush()
    audit.record(actor, "forms.template_versioned", object_type="form_template", object_id=template.id,
                 after={"version": v.version})
    db.session.commit()
    return v


def current_version(template_code: str) -> FormTemplateVersion:
    t = db.session.execute(select(FormTemplate).where(FormTemplate.code == template_code)).scalar_one_or_none()
    if t is None:
        raise NotFound(_("No form %(code)s.", code=template_code))
    return db.session.execute(select(FormTemplateVersion).where(
        FormTemplateVersion.template_id == t.id, FormTemplateVersion.version == t.current_version)).scalar_one()


def list_templates() -> list[FormTemplate]:
    return list(db.session.execute(select(FormTemplate).order_by(FormTemplate.code)).scalars())
