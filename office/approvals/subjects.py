"""The subject registry: what an approval request is about (a document, a form submission, a
stand-alone request). Modules that use the engine register here; the engine imports none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Callback = Callable[[Any], None]


@dataclass
class SubjectType:
    key: str
    label: object
    summary: Callable[[str], str]
    url: Callable[[str], str | None] | None = None
    on_approved: Callback | None = None
    on_rejected: Callback | None = None
    on_returned: Callback | None = None
    on_withdrawn: Callback | None = None
    # Assignee kind "subject": the subject names who decides (e.g. the reviewing level of a report).
    assignees: Callable[[Any], list[int]] | None = None
    # The summary lines of many subjects at once (one query for a whole to-do list): ids -> {id: line}.
    summaries: Callable[[list[str]], dict[str, str]] | None = None
    # The same lines for the inbox, as a select (subject_id as text, line, subject, detail, urgency)
    # over the subjects whose integer ids a given select returns (all when None): ``line`` is a
    # line key the subject module registered with the inbox, translated when the list is shown.
    todo_lines: Callable[[Any], Any] | None = None
    # Separated duties: {user id: reason} of the people who may not decide this request (e.g. the
    # drafter of the document being signed off). The engine passes them over when it assigns a
    # step, and refuses them a task by transfer, added signer or delegation, with the reason.
    excluded: Callable[[Any], dict[int, str]] | None = None
    # The subject's own words (see WORD_KEYS): its decision buttons and timeline lines. A button
    # word set to None is not offered on the request page.
    words: dict[str, Any] = field(default_factory=dict)
    # After a decision on the request page: (actor, request, kind) -> (url, message) or None, where
    # the person lands next and what the message says (kind: approve / reject / return).
    after_decision: Callable[[Any, Any, str], tuple[str, str] | None] | None = None
    # The printed approval sheet: (request, ApprovalSheet) -> the subject's own paper (e.g. the
    # 发文稿纸 of a document, with the steps it had before approval), or None to amend it in place.
    sheet: Callable[[Any, Any], Any] | None = None
    # (actor, request) -> bool: who else may see the request than its participants (e.g. the
    # people of the organ whose document is being signed off).
    may_view: Callable[[Any, Any], bool] | None = None


# Keys of ``SubjectType.words``: the decision buttons, the sheet's button, the requester's label,
# and the timeline line of each decision.
WORD_KEYS = ("button.approve", "button.reject", "button.return", "button.sheet", "label.requester",
             "timeline.submit", "timeline.approve", "timeline.reject", "timeline.return", "timeline.withdraw")


_subjects: dict[str, SubjectType] = {}


def register_subject(key: str, *, label, summary: Callable[[str], str],
                     url: Callable[[str], str | None] | None = None,
                     on_approved: Callback | None = None, on_rejected: Callback | None = None,
                     on_returned: Callback | None = None, on_withdrawn: Callback | None = None,
                     assignees: Callable[[Any], list[int]] | None = None,
                     summaries: Callable[[list[str]], dict[str, str]] | None = None,
                     excluded: Callable[[Any], dict[int, str]] | None = None, words: dict | None = None,
                     after_decision: Callable[[Any, Any, str], tuple[str, str] | None] | None = None,
                     sheet: Callable[[Any, Any], Any] | None = None,
                     may_view: Callable[[Any, Any], bool] | None = None,
                     todo_lines: Callable[[Any], Any] | None = None) -> None:
    """Register a subject type. Callbacks get the ``ApprovalRequest`` and run inside the action's
    transaction (raise to refuse it); ``summary(subject_id)`` is the line shown in lists,
    ``summaries(subject_ids)`` (optional) gives the same lines for many subjects in one go, and
    ``todo_lines`` the to-do line of the approval tasks in the inbox (the request's title without it). The
    optional ``excluded``, ``words``, ``after_decision``, ``sheet`` and ``may_view`` are described on ``SubjectType``."""
    unknown = set(words or {}) - set(WORD_KEYS)
    if unknown:
        raise ValueError(f"unknown subject words: {sorted(unknown)}")
    _subjects[key] = SubjectType(key, label, summary, url=url, on_approved=on_approved, on_rejected=on_rejected,
                                 on_returned=on_returned, on_withdrawn=on_withdrawn, assignees=assignees,
                                 summaries=summaries, excluded=excluded, words=dict(words or {}),
                                 after_decision=after_decision, sheet=sheet, may_view=may_view,
                                 todo_lines=todo_lines)


def get_subject(key: str) -> SubjectType | None:
    return _subjects.get(key)


def subject_types() -> list[SubjectType]:
    return list(_subjects.values())


def summary_of(subject_type: str, subject_id: str) -> str:
    st = _subjects.get(subject_type)
    if st is None:
        return ""
    try:
        return st.summary(subject_id) or ""
    except Exception:  # noqa: BLE001 - a subject module's bug must not break the to-do list
        return ""


def summaries_of(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Summary lines of many (subject_type, subject_id) pairs: one call per subject type when the
    type registered ``summaries``, else one ``summary`` call per subject."""
    by_type: dict[str, list[str]] = {}
    for subject_type, subject_id in pairs:
        by_type.setdefault(subject_type, []).append(str(subject_id))
    out: dict[tuple[str, str], str] = {}
    for subject_type, ids in by_type.items():
        st = _subjects.get(subject_type)
        lines: dict[str, str] = {}
        if st is not None and st.summaries is not None:
            try:
                lines = st.summaries(ids) or {}
            except Exception:  # noqa: BLE001 - as in summary_of: never break the to-do list
                lines = {}
            out.update({(subject_type, i): lines.get(i) or "" for i in ids})
        else:
            out.update({(subject_type, i): summary_of(subject_type, i) for i in ids})
    return out


def assignees_of(request) -> list[int]:
    """User ids the request's subject names for an assignee of kind "subject" ([] if none)."""
    st = _subjects.get(request.subject_type) if request is not None else None
    if st is None or st.assignees is None:
        return []
    return list(st.assignees(request) or [])


def excluded_of(request) -> dict[int, str]:
    """{user id: reason} of the people the request's subject keeps from deciding it ({} if none)."""
    st = _subjects.get(request.subject_type) if request is not None else None
    if st is None or st.excluded is None:
        return {}
    return dict(st.excluded(request) or {})


def after_decision_of(actor, request, kind: str) -> tuple[str, str] | None:
    """The subject's hand-off after a decision: (url, message), or None for the request page."""
    st = _subjects.get(request.subject_type) if request is not None else None
    if st is None or st.after_decision is None:
        return None
    return st.after_decision(actor, request, kind)


def may_view_of(actor, request) -> bool:
    st = _subjects.get(request.subject_type) if request is not None else None
    return bool(st is not None and st.may_view is not None and st.may_view(actor, request))


def words_of(subject_type: str) -> dict[str, Any]:
    st = _subjects.get(subject_type)
    return st.words if st is not None else {}


def fire(subject_type: str, event: str, request) -> None:
    st = _subjects.get(subject_type)
    cb = getattr(st, f"on_{event}", None) if st else None
    if cb is not None:
        cb(request)
