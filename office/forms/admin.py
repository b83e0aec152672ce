"""Catalogue administration: data elements and form templates from HTML forms, and a template's
JSON export and import.

Who may: system administrators; a government's (or general office's) unit administrator above the
township for every department; a department's unit administrator and clerks for what their
department owns (``owner_function``).
"""

from __future__ import annotations

import json

from flask_babel import gettext as _
from sqlalchemy import select

from office.actor import Actor
from office.errors import NotFound, PermissionDenied, ValidationError
from office.extensions import db
from office.forms import expr
from office.forms.catalogue import (
    create_element,
    create_template,
    elements_by_code,
    new_template_version,
    validate_definition,
)
from office.forms.models import Aggregation, FormTemplate, FormTemplateVersion, PeriodType, ValueType
from office.org.models import Level, Unit, UnitKind

EXPORT_FORMAT = "office.forms.template/1"
GOV_KINDS = (UnitKind.GOVERNMENT, UnitKind.GENERAL_OFFICE)
MAX_FIELDS = 200
MAX_RULES = 50


def _unit(actor: Actor) -> Unit | None:
    return db.session.get(Unit, actor.unit_id) if actor.unit_id else None


def may_manage(actor: Actor, owner_function: str | None = None) -> bool:
    """May the actor create or change catalogue entries owned by ``owner_function`` (None: any
    entry at all, e.g. to show the editing links)."""
    if actor.is_system or actor.has_role("sys_admin"):
        return True
    unit = _unit(actor)
    if unit is None:
        return False
    if actor.has_role("unit_admin") and unit.kind in GOV_KINDS and unit.level != Level.TOWNSHIP:
        return True
    if unit.kind != UnitKind.DEPARTMENT or not actor.has_role("unit_admin", "clerk"):
        return False
    return owner_function is None or owner_function == unit.function_code


def owner_choices(actor: Actor) -> list[str]:
    """Departments (function codes) the actor may give as owner."""
    codes = sorted(set(db.session.execute(select(Unit.function_code).where(
        Unit.kind == UnitKind.DEPARTMENT)).scalars()))
    return [c for c in codes if may_manage(actor, c)]


def _require(actor: Actor, owner_function: str) -> None:
    if not may_manage(actor, owner_function):
        raise PermissionDenied(_("Only unit administrators and clerks of the owning department may do this."))


def _owner(actor: Actor, owner_function: str) -> str:
    owner = (owner_function or "").strip()
    if not owner:
        unit = _unit(actor)
        owner = unit.function_code if unit is not None and unit.kind == UnitKind.DEPARTMENT else ""
    if not owner:
        raise ValidationError(_("Choose the owning department."))
    _require(actor, owner)
    return owner


# --- elements ----------------------------------------------------------------------------------


def element_from_form(actor: Actor, form) -> object:
    """Create a data element from the posted fields."""
    def get(k: str) -> str:
        return (form.get(k) or "").strip()

    owner = _owner(actor, get("owner_function"))
    if not get("name"):
        raise ValidationError(_("A data element needs a name."))
    choices = [c.strip() for c in get("choices").replace("，", ",").split(",") if c.strip()]
    return create_element(actor, code=get("code").upper(), name=get("name")[:120], value_type=get("value_type"),
                          unit_of_measure=get("unit_of_measure")[:20], aggregation=get("aggregation") or "sum",
                          period_type=get("period_type") or "year", owner_function=owner,
                          definition=get("definition")[:2000], numerator_code=get("numerator_code").upper() or None,
                          denominator_code=get("denominator_code").upper() or None, choices=choices,
                          carry_forward=bool(form.get("carry_forward")) or None)


# --- templates ---------------------------------------------------------------------------------


def _num(raw: str, what: str, row: int) -> float | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        n = float(raw)
    except ValueError:
        raise ValidationError(_("Row %(r)d: %(w)s must be a number.", r=row, w=what)) from None
    return int(n) if n.is_integer() else n


def definition_from_form(form) -> dict:
    """Sections, fields and rules from the editor's rows: ``f{i}_section``, ``f{i}_element``,
    ``f{i}_label``, ``f{i}_required``, ``f{i}_min``, ``f{i}_max``, ``f{i}_computed``, ``f{i}_warn``;
    ``r{i}_expr``, ``r{i}_message``, ``r{i}_severity``. Fields are grouped by section title in the
    order the titles first appear; rows without an element are ignored."""
    sections: dict[str, list[dict]] = {}
    last_title = ""
    for i in range(MAX_FIELDS):
        code = (form.get(f"f{i}_element") or "").strip().upper()
        title = (form.get(f"f{i}_section") or "").strip()[:80] or last_title
        if not code:
            continue
        last_title = title
        row = i + 1
        f: dict = {"element": code}
        label = (form.get(f"f{i}_label") or "").strip()[:120]
        if label:
            f["label"] = label
        if form.get(f"f{i}_required"):
            f["required"] = True
        for key, what in (("min", _("minimum")), ("max", _("maximum"))):
            n = _num(form.get(f"f{i}_{key}", ""), what, row)
            if n is not None:
                f[key] = n
        warn = _num(form.get(f"f{i}_warn", ""), _("warning percentage"), row)
        if warn is not None:
            if warn <= 0:
                raise ValidationError(_("Row %(r)d: the warning percentage must be above 0.", r=row))
            f["warn_change_pct"] = warn
        computed = (form.get(f"f{i}_computed") or "").strip()
        if computed:
            f["computed"] = computed
        sections.setdefault(title, []).append(f)
    rules = []
    for i in range(MAX_RULES):
        e = (form.get(f"r{i}_expr") or "").strip()
        if not e:
            continue
        severity = form.get(f"r{i}_severity") or "error"
        rules.append({"expr": e, "message": (form.get(f"r{i}_message") or "").strip()[:200] or e,
                      "severity": severity})
    return {"sections": [{"title": t, "fields": fs} for t, fs in sections.items()], "rules": rules}


def check_definition(definition: dict) -> dict:
    """The catalogue's checks plus the expressions' syntax (never evaluated with ``eval``)."""
    if not isinstance(definition, dict):
        raise ValidationError(_("A form definition is an object with sections and rules."))
    for s in definition.get("sections") or []:
        if not isinstance(s, dict) or not isinstance(s.get("fields"), list):
            raise ValidationError(_("A section needs a list of fields."))
        for f in s["fields"]:
            if not isinstance(f, dict) or not isinstance(f.get("element"), str):
                raise ValidationError(_("A field needs a data element."))
            if f.get("computed"):
                expr.parse(f["computed"])
    rules = definition.get("rules") or []
    if not isinstance(rules, list):
        raise ValidationError(_("Rules are a list."))
    for r in rules:
        if not isinstance(r, dict) or not r.get("expr"):
            raise ValidationError(_("A rule needs an expression."))
        expr.parse(r["expr"])
    definition.setdefault("rules", [])
    validate_definition(definition)
    els = elements_by_code(f["element"] for s in definition["sections"] for f in s["fields"])
    for s in definition["sections"]:
        for f in s["fields"]:
            if ("min" in f or "max" in f) and els[f["element"]].value_type not in (
                    ValueType.INTEGER, ValueType.DECIMAL, ValueType.PERCENTAGE):
                raise ValidationError(_("%(f)s: minimum and maximum need a numeric element.", f=f["element"]))
    return definition


def get_template(code: str) -> FormTemplate:
    t = db.session.execute(select(FormTemplate).where(FormTemplate.code == code)).scalar_one_or_none()
    if t is None:
        raise NotFound(_("No form %(code)s.", code=code))
    return t


def current_definition(t: FormTemplate) -> dict:
    return db.session.execute(select(FormTemplateVersion.definition).where(
        FormTemplateVersion.template_id == t.id, FormTemplateVersion.version == t.current_version)).scalar_one()


def save_template(actor: Actor, *, code: str, name: str, owner_function: str, period_type: str,
                  definition: dict) -> FormTemplateVersion | None:
    """Create a template, or add a version to an existing one (None when nothing changed).
    Reports issued earlier keep the version they were issued with."""
    code = (code or "").strip().upper()
    name = (name or "").strip()[:120]
    if not name:
        raise ValidationError(_("A form needs a name."))
    if period_type not in set(PeriodType) - {PeriodType.STATIC}:
        raise ValidationError(_("Unknown period type %(p)s.", p=period_type))
    definition = check_definition(definition)
    existing = db.session.execute(select(FormTemplate).where(FormTemplate.code == code)).scalar_one_or_none()
    if existing is None:
        owner = _owner(actor, owner_function)
        return create_template(actor, code=code, name=name, definition=definition, owner_function=owner,
                               period_type=period_type)
    _require(actor, existing.owner_function)
    if owner_function and owner_function != existing.owner_function:
        _require(actor, owner_function)
        existing.owner_function = owner_function
    existing.name = name
    existing.period_type = period_type
    if json.dumps(current_definition(existing), sort_keys=True) == json.dumps(definition, sort_keys=True):
        db.session.commit()
        return None
    return new_template_version(actor, existing, definition)


def template_from_form(actor: Actor, form, code: str | None = None) -> FormTemplateVersion | None:
    return save_template(actor, code=code or form.get("code", ""), name=form.get("name", ""),
                         owner_function=(form.get("owner_function") or "").strip(),
                         period_type=form.get("period_type") or PeriodType.QUARTER,
                         definition=definition_from_form(form))


# --- JSON export and import --------------------------------------------------------------------


def _element_json(el) -> dict:
    return {"code": el.code, "name": el.name, "value_type": el.value_type, "unit_of_measure": el.unit_of_measure,
            "aggregation": el.aggregation, "numerator_code": el.numerator_code,
            "denominator_code": el.denominator_code, "period_type": el.period_type,
            "carry_forward": el.carry_forward, "owner_function": el.owner_function, "choices": el.choices or [],
            "definition": el.definition}


def export_template(t: FormTemplate) -> dict:
    """The current version with the data elements it uses (so another system can import it)."""
    definition = current_definition(t)
    codes = [f["element"] for s in definition["sections"] for f in s["fields"]]
    els = elements_by_code(codes)
    # Ratio elements need their numerator and denominator.
    extra = [c for e in els.values() for c in (e.numerator_code, e.denominator_code) if c and c not in els]
    els.update(elements_by_code(extra))
    ordered = sorted(els.values(), key=lambda e: (e.aggregation == Aggregation.RATIO, e.code))
    return {"format": EXPORT_FORMAT, "code": t.code, "name": t.name, "owner_function": t.owner_function,
            "period_type": t.period_type, "version": t.current_version, "definition": definition,
            "elements": [_element_json(e) for e in ordered]}


def export_file(actor: Actor, code: str) -> tuple[str, str]:
    """(file name, JSON) of a template's current version with its elements; the export is audited."""
    from office.audit import service as audit

    data = export_template(get_template(code))
    name = f"form-{data['code']}-v{data['version']}.json"
    audit.record_download(actor, "form_template", data["code"], name)
    return name, json.dumps(data, ensure_ascii=False, indent=2)


def import_template(actor: Actor, data) -> FormTemplateVersion | None:
    """Import an export: missing data elements are created (existing ones are kept as they are),
    then the template is created or gets a new version."""
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig", errors="replace")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise ValidationError(_("The file is not valid JSON.")) from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ValidationError(_("The file is not a form template export."))
    elements = data.get("elements") or []
    if not isinstance(elements, list):
        raise ValidationError(_("The file is not a form template export."))
    have = elements_by_code(e.get("code", "") for e in elements if isinstance(e, dict))
    allowed = {"code", "name", "value_type", "unit_of_measure", "aggregation", "numerator_code",
               "denominator_code", "period_type", "carry_forward", "owner_function", "choices", "definition"}
    for e in elements:
        if not isinstance(e, dict) or e.get("code") in have:
            continue
        kw = {k: v for k, v in e.items() if k in allowed}
        kw["owner_function"] = _owner(actor, str(kw.get("owner_function") or data.get("owner_function") or ""))
        create_element(actor, commit=False, **kw)
    return save_template(actor, code=str(data.get("code", "")), name=str(data.get("name", "")),
                         owner_function=str(data.get("owner_function") or ""),
                         period_type=str(data.get("period_type") or PeriodType.QUARTER),
                         definition=data.get("definition"))
