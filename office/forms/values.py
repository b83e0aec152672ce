"""The one value store: read, write (optimistic locking, history, approval locks) and prefill.

Every form reads and writes (element, unit, period) through here; the ``form_value`` row is the
only place a value lives, so two forms can never show two values for the same key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import Integer, String, and_, bindparam, column, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from office.actor import Actor
from office.errors import Conflict
from office.extensions import db, dialect_name, session_memo
from office.forms import expr
from office.forms.catalogue import element_period, element_records, elements_by_code, previous_period
from office.forms.models import (
    DataElement,
    DataValue,
    FormTemplateVersion,
    SharedDataset,
    SharedRow,
    Source,
    ValueHistory,
)
from office.timeutil import utcnow


@dataclass
class Prefill:
    """What a field shows before the clerk touches it, and where it comes from."""

    text: str
    num: float | None
    source: str  # a Source value
    source_ref: str = ""
    source_date: date | None = None
    dataset_id: int | None = None
    version: int | None = None  # version of the stored row, None if nothing is stored yet
    stored: bool = False
    locked: bool = False
    updated_by: str = ""
    template_id: int | None = None


def changed_by_someone_else() -> Conflict:
    return Conflict(_("This value was changed by someone else. Reload the form and try again."))


def locked_error(name: str) -> Conflict:
    return Conflict(_("%(name)s is approved and locked; it can be changed after the report is returned.",
                      name=name))


def read_values(unit_id: int, keys: list[tuple[int, str]]) -> dict[tuple[int, str], DataValue]:
    """Stored values of one unit for (element id, period) keys."""
    return _values_of(select(DataValue), unit_id, keys, scalars=True)


def _values_of(query, unit_id: int, keys: list[tuple[int, str]], scalars: bool = False) -> dict:
    """The values of ``keys`` of one unit. On PostgreSQL the keys go as two arrays unnested into
    (element, period) pairs, each looked up by the whole (unit, period, element) index: one
    statement text whatever the number of keys, and a plan that cannot drift to scanning every
    period of an element (a prepared ``element_id = ANY(...)``, with or without the periods as a
    second array, is planned once, generically, and may pick the (element, unit, period) key with
    the period as a filter). Elsewhere element and period IN lists."""
    if not keys:
        return {}
    if dialect_name() == "postgresql":
        pairs = func.unnest(bindparam(None, [k[0] for k in keys], type_=postgresql.ARRAY(Integer)),
                            bindparam(None, [k[1] for k in keys], type_=postgresql.ARRAY(String))) \
            .table_valued(column("element_id", Integer), column("period", String)).render_derived(name="k")
        query = query.join_from(pairs, DataValue, and_(
            DataValue.unit_id == unit_id, DataValue.period == pairs.c.period,
            DataValue.element_id == pairs.c.element_id))
    else:
        query = query.where(DataValue.unit_id == unit_id, DataValue.element_id.in_({k[0] for k in keys}),
                            DataValue.period.in_({k[1] for k in keys}))
    result = db.session.execute(query)
    wanted = set(keys)
    return {key: r for r in (result.scalars() if scalars else result)
            if (key := (r.element_id, r.period)) in wanted}


_VALUE_COLUMNS = tuple(DataValue.__table__.c)


def value_records(unit_id: int, keys: list[tuple[int, str]]) -> dict[tuple[int, str], object]:
    """``read_values`` as read-only records (rows with the value's columns as attributes), for
    what is shown or computed rather than written."""
    return _values_of(select(*_VALUE_COLUMNS), unit_id, keys)


def get_value(element_code: str, unit_id: int, period: str) -> DataValue | None:
    el = elements_by_code([element_code]).get(element_code)
    if el is None:
        return None
    return read_values(unit_id, [(el.id, element_period(el, period))]).get((el.id, element_period(el, period)))


def write_value(actor: Actor, el: DataElement, unit_id: int, period: str, text: str, num: float | None, *,
                source: str, source_ref: str = "", source_date: date | None = None,
                dataset_id: int | None = None, template_id: int | None = None,
                expected_version: int | None = None, current: DataValue | None = None) -> DataValue:
    """Insert or update the value of (el, unit, period) in the caller's transaction.

    ``expected_version`` is the version the writer saw (0: he saw no value): a different stored
    version means someone else changed it meanwhile (Conflict). The update itself is conditional
    on the version, so two concurrent writers never both win."""
    now = utcnow()
    row = current if current is not None else read_values(unit_id, [(el.id, period)]).get((el.id, period))
    if row is None:
        if expected_version:
            raise changed_by_someone_else()
        row = DataValue(element_id=el.id, unit_id=unit_id, period=period, value_text=text, value_num=num,
                        source=source, source_ref=source_ref, source_date=source_date, dataset_id=dataset_id,
                        template_id=template_id, updated_by_id=actor.user_id, updated_by_name=actor.name,
                        updated_at=now, version=1)
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            raise changed_by_someone_else() from None
        db.session.add(ValueHistory(value_id=row.id, version=1, old_text=None, new_text=text, source=source,
                                    source_ref=source_ref, actor_id=actor.user_id, actor_name=actor.name, at=now))
        return row
    if expected_version is not None and expected_version != row.version and row.value_text != text:
        raise changed_by_someone_else()
    if row.locked_by_id is not None:
        if row.value_text == text:
            return row
        raise locked_error(el.name)
    if row.value_text == text and row.source == source:
        return row
    old_text, seen = row.value_text, row.version
    res = db.session.execute(
        update(DataValue).where(DataValue.id == row.id, DataValue.version == seen,
                                DataValue.locked_by_id.is_(None))
        .values(value_text=text, value_num=num, source=source, source_ref=source_ref, source_date=source_date,
                dataset_id=dataset_id, template_id=template_id, updated_by_id=actor.user_id,
                updated_by_name=actor.name, updated_at=now, version=seen + 1)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        db.session.rollback()
        raise changed_by_someone_else()
    db.session.refresh(row)
    db.session.add(ValueHistory(value_id=row.id, version=seen + 1, old_text=old_text, new_text=text,
                                source=source, source_ref=source_ref, actor_id=actor.user_id,
                                actor_name=actor.name, at=now))
    return row


def history(value_id: int) -> list[ValueHistory]:
    return list(db.session.execute(select(ValueHistory).where(ValueHistory.value_id == value_id)
                                   .order_by(ValueHistory.version)).scalars())


# --- prefill ---------------------------------------------------------------------------------


def form_elements(version: FormTemplateVersion) -> dict[str, DataElement]:
    """The form's elements by code, as read-only records (``element_records``); read once per
    saved version until the session writes or ends (a fill page and a roll-up page each ask two or
    three times)."""
    if version.id is None:
        return element_records([f["element"] for f in version.fields()])
    memo = session_memo("forms.elements")
    if version.id not in memo:
        by_code = element_records([f["element"] for f in version.fields()])
        memo[version.id] = by_code
    return dict(memo[version.id])


def prefill(version: FormTemplateVersion, unit_id: int, period: str) -> dict[str, Prefill]:
    """Each field's value before the clerk touches it, in order: the value already stored for the
    same period (typed in this or another form, or taken before) -> the latest shared dataset ->
    carried forward from the last period (static and slow elements) -> computed from the others."""
    fields = version.fields()
    els = form_elements(version)
    keys = {f["element"]: (els[f["element"]].id, element_period(els[f["element"]], period)) for f in fields}
    stored = value_records(unit_id, list(keys.values()))
    out: dict[str, Prefill] = {}
    for code, key in keys.items():
        v = stored.get(key)
        if v is not None and v.value_text != "":
            src = v.source
            ref = v.source_ref
            if v.template_id is not None and v.template_id != version.template_id and src in (
                    Source.TYPED, Source.IMPORTED, Source.CONFIRMED, Source.COMPUTED):
                src = Source.FORM
                ref = _template_name(v.template_id)
            out[code] = Prefill(v.value_text, v.value_num, src, ref, v.source_date, v.dataset_id, v.version,
                                True, v.locked_by_id is not None, v.updated_by_name, v.template_id)
    missing = [c for c in keys if c not in out]
    if missing:
        # Element and period lists rather than a list of pairs: the same SQL text for every call
        # (a list of 200 pairs is compiled and parsed again each time), filtered to the pairs here.
        wanted = {keys[c] for c in missing}
        rows = db.session.execute(
            select(SharedRow, SharedDataset).join(SharedDataset, SharedDataset.id == SharedRow.dataset_id)
            .where(SharedRow.unit_id == unit_id, SharedRow.element_id.in_({k[0] for k in wanted}),
                   SharedRow.period.in_({k[1] for k in wanted}))
            .order_by(SharedDataset.as_of, SharedDataset.id)).all()
        by_key = {(r.element_id, r.period): (r, ds) for r, ds in rows
                  if (r.element_id, r.period) in wanted}  # latest as-of wins
        for code in missing:
            hit = by_key.get(keys[code])
            if hit:
                r, ds = hit
                out[code] = Prefill(r.value_text, r.value_num, Source.SHARED, ds.source_name, ds.as_of, ds.id)
    carry = [c for c in keys if c not in out and els[c].carry_forward]
    if carry:
        prev = {c: (els[c].id, element_period(els[c], previous_period(period))) for c in carry}
        before = value_records(unit_id, list(prev.values()))
        for code in carry:
            v = before.get(prev[code])
            if v is not None and v.value_text != "":
                out[code] = Prefill(v.value_text, v.value_num, Source.CARRIED, prev[code][1])
    computed = {f["element"]: f["computed"] for f in fields if f.get("computed")}
    for code, text in compute(computed, {c: p.num for c, p in out.items()}, els, keys=list(keys)).items():
        if code not in out or not out[code].stored:
            out[code] = Prefill(text[0], text[1], Source.COMPUTED, computed[code])
    return out


def compute(computed: dict[str, str], nums: dict[str, float | None], els: dict[str, DataElement],
            keys: list[str]) -> dict[str, tuple[str, float]]:
    """Values of computed fields (in definition order, so one may use an earlier one)."""
    from office.forms.catalogue import parse_value

    env = {c: nums.get(c) for c in keys}
    out = {}
    for code, formula in computed.items():
        env[code] = None
        result = expr.evaluate(formula, env)
        if result is None or isinstance(result, bool):
            continue
        if els[code].value_type == "integer":
            result = round(result)
        elif els[code].value_type in ("decimal", "percentage"):
            result = round(float(result), 4)
        try:
            out[code] = parse_value(els[code], result)
        except Exception:  # noqa: BLE001 - a computed value out of range is left for the clerk
            continue
        env[code] = out[code][1]
    return out


def _template_name(template_id: int) -> str:
    from office.forms.models import FormTemplate

    t = db.session.get(FormTemplate, template_id)
    return t.name if t else ""
