"""Roll-up in SQL: per element over a subtree (GROUP BY over the value store joined with the
task's reporting units and their paths), per child division for the drill-down, completeness and
timeliness.

A subtree with child divisions is aggregated once, per child: its total is combined from the
children's rows (counts, sums, minima and maxima add up; the average is sum / count), and the
drill-down of the same task and subtree in the same transaction reuses the rows until the next
flush, commit or rollback."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, literal_column, or_, select

from office.extensions import db, session_memo
from office.forms.catalogue import element_period, elements_by_code
from office.forms.models import Aggregation, DataValue, ReportTask, Submission, SubmissionState
from office.forms.values import form_elements
from office.org.models import Division
from office.org.service import subtree_clause


@dataclass
class Agg:
    count: int = 0
    sum: float | None = None
    avg: float | None = None
    min: float | None = None
    max: float | None = None


@dataclass
class Progress:
    expected: int = 0
    submitted: int = 0
    approved: int = 0
    on_time: int = 0
    late: int = 0

    @property
    def completeness(self) -> float:
        return round(100.0 * self.submitted / self.expected, 1) if self.expected else 0.0


@dataclass
class RollupRow:
    key: str  # path of the group ("" for the whole subtree)
    name: str
    values: dict[str, float | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    progress: Progress = field(default_factory=Progress)


def _child_lens(path: str) -> list[int]:
    """Lengths of the children's paths of the division at ``path`` (one per code length among
    them): a city's children are counties (6-digit codes) or, in 东莞 and 中山, towns (9 digits);
    none for a township. Each child division is one group, whatever its rank."""
    from office.org.service import child_code_lengths

    return [len(path) + n + 1 for n in child_code_lengths(path)]


def _aggregate(task: ReportTask, path: str, group_len: int | None,
               exact: str | None = None) -> dict[tuple[str, int], Agg]:
    """{(group path, element id): Agg} over the task's reporting units under ``path``."""
    els = form_elements(task.template_version)
    extra = {c for e in els.values() if e.aggregation == Aggregation.RATIO for c in (e.numerator_code,
                                                                                     e.denominator_code)}
    els = {**els, **elements_by_code(extra - set(els))}
    by_period: dict[str, list[int]] = {}
    for e in els.values():
        by_period.setdefault(element_period(e, task.period), []).append(e.id)
    group = _group(group_len)
    out: dict[tuple[str, int], Agg] = {}
    for period, ids in by_period.items():
        cols = [DataValue.element_id, func.count(DataValue.value_num), func.sum(DataValue.value_num),
                func.avg(DataValue.value_num), func.min(DataValue.value_num), func.max(DataValue.value_num)]
        if group is not None:
            cols.insert(0, group)
        q = (select(*cols).select_from(Submission)
             .join(DataValue, and_(DataValue.unit_id == Submission.unit_id, DataValue.period == period,
                                   DataValue.element_id.in_(ids)))
             .where(Submission.task_id == task.id, Submission.kind == "leaf", *_under(task, path),
                    *_exact(group_len, exact), DataValue.value_num.isnot(None)))
        q = q.group_by(group, DataValue.element_id) if group is not None else q.group_by(DataValue.element_id)
        for row in db.session.execute(q):
            g = row[0] if group is not None else ""
            r = row[1:] if group is not None else row
            out[(g, r[0])] = Agg(int(r[1]), _f(r[2]), _f(r[3]), _f(r[4]), _f(r[5]))
    return out


def _under(task: ReportTask, path: str) -> list:
    """The subtree condition; none for the task's own path, which holds every reporting unit (a
    redundant range condition makes PostgreSQL misjudge the join and lose its parallel plan)."""
    return [] if path == task.path else [subtree_clause(Submission.path, path)]


def _exact(n: int | None, exact: str | None) -> list:
    """With children of several code lengths, each grouping takes the rows whose child segment has
    its length (the path has a "/" right there); ``exact`` is the division's own path for the one
    grouping that also takes its own reporting units ("" for the others)."""
    if not n or exact is None:
        return []
    slash = func.substr(Submission.path, literal_column(str(int(n))), literal_column("1")) == "/"
    return [or_(slash, Submission.path == exact)] if exact else [slash]


def _group(n: int | None):
    # Literal arguments: the same SQL text in SELECT and GROUP BY (PostgreSQL compares them).
    if not n:
        return None
    return func.substr(Submission.path, literal_column("1"), literal_column(str(int(n))))


def _f(v):
    return None if v is None else float(v)


def _value(el, aggs: dict[tuple[str, int], Agg], g: str, by_code) -> float | None:
    a = aggs.get((g, el.id))
    agg = el.aggregation
    if agg == Aggregation.RATIO:
        num = aggs.get((g, by_code[el.numerator_code].id)) if el.numerator_code in by_code else None
        den = aggs.get((g, by_code[el.denominator_code].id)) if el.denominator_code in by_code else None
        if not num or not den or not den.sum:
            return None
        value = num.sum / den.sum
        return value * 100 if el.value_type == "percentage" else value
    if a is None:
        return None
    return {Aggregation.SUM: a.sum, Aggregation.AVERAGE: a.avg, Aggregation.MIN: a.min,
            Aggregation.MAX: a.max}.get(agg)


def _progress(task: ReportTask, path: str, group_len: int | None,
              exact: str | None = None) -> dict[str, Progress]:
    group = _group(group_len)
    done = Submission.state.in_([SubmissionState.SUBMITTED, SubmissionState.APPROVED])
    cols = [func.count(), func.sum(case((done, 1), else_=0)),
            func.sum(case((Submission.state == SubmissionState.APPROVED, 1), else_=0)),
            func.sum(case((and_(done, Submission.submitted_at <= task.deadline), 1), else_=0))]
    if group is not None:
        cols.insert(0, group)
    q = select(*cols).where(Submission.task_id == task.id, Submission.kind == "leaf", *_under(task, path),
                            *_exact(group_len, exact))
    if group is not None:
        q = q.group_by(group)
    out = {}
    for row in db.session.execute(q):
        g = row[0] if group is not None else ""
        r = row[1:] if group is not None else row
        expected, submitted, approved, on_time = (int(x or 0) for x in r)
        out[g] = Progress(expected, submitted, approved, on_time, submitted - on_time)
    return out


def rollup(task: ReportTask, path: str) -> RollupRow:
    """The whole subtree under ``path``: one row of aggregated values and its progress. Every
    reporting unit lies on one path, so it counts once: a township handed to a development zone
    counts under the zone (and the city and province above it), not in the county it came from."""
    lens = _child_lens(path)
    if not lens:
        return _rows(task, path, None)[0]
    aggs, progress = _grouped(task, path, lens)
    return _rows(task, path, None, (_total(aggs), {"": sum_progress(progress.values())}))[0]


def drilldown(task: ReportTask, path: str) -> list[RollupRow]:
    """One row per child division of ``path`` that has reporting units in the task."""
    lens = _child_lens(path)
    if not lens:
        return []
    return _rows(task, path, lens, _grouped(task, path, lens))


def _grouped(task: ReportTask, path: str, lens: list[int]):
    memo = session_memo("forms.rollup")
    key = (task.id, path, tuple(lens))
    if key not in memo:
        aggs: dict = {}
        progress: dict = {}
        for i, n in enumerate(lens):
            exact = (path if i == 0 else "") if len(lens) > 1 else None
            aggs.update(_aggregate(task, path, n, exact=exact))
            progress.update(_progress(task, path, n, exact=exact))
        memo[key] = (aggs, progress)
    return memo[key]


def _total(aggs: dict[tuple[str, int], Agg]) -> dict[tuple[str, int], Agg]:
    out: dict[tuple[str, int], Agg] = {}
    for (_g, el), a in aggs.items():
        t = out.setdefault(("", el), Agg())
        t.count += a.count
        t.sum = a.sum if t.sum is None else t.sum + (a.sum or 0.0)
        t.min = a.min if t.min is None or (a.min is not None and a.min < t.min) else t.min
        t.max = a.max if t.max is None or (a.max is not None and a.max > t.max) else t.max
    for t in out.values():
        t.avg = t.sum / t.count if t.count and t.sum is not None else None
    return out


def sum_progress(parts) -> Progress:
    total = Progress()
    for p in parts:
        total.expected += p.expected
        total.submitted += p.submitted
        total.approved += p.approved
        total.on_time += p.on_time
        total.late += p.late
    return total


def _rows(task: ReportTask, path: str, group_len: int | None, computed=None) -> list[RollupRow]:
    els = form_elements(task.template_version)
    extra = {c for e in els.values() if e.aggregation == Aggregation.RATIO for c in (e.numerator_code,
                                                                                     e.denominator_code)}
    by_code = {**els, **elements_by_code(extra - set(els))}
    aggs, progress = computed or (_aggregate(task, path, group_len), _progress(task, path, group_len))
    groups = sorted(progress) if group_len else [""]
    names = {}
    if group_len:
        names = {d.path: d.name for d in db.session.execute(select(Division).where(Division.path.in_(groups))).scalars()}
    rows = []
    for g in groups:
        row = RollupRow(g, names.get(g, ""), progress=progress.get(g, Progress()))
        for code, el in els.items():
            row.values[code] = _value(el, aggs, g, by_code)
            a = aggs.get((g, el.id))
            row.counts[code] = a.count if a else 0
        rows.append(row)
    return rows
