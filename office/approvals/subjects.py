"""The subject registry: what an approval request is about (a document, a form submission, a
stand-alone request). Modules that use the engine register here; the engine imports none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


_subjects: dict[str, SubjectType] = {}


def register_subject(key: str, *, label, summary: Callable[[str], str],
                     url: Callable[[str], str | None] | None = None,
                     on_approved: Callback | None = None, on_rejected: Callback | None = None,
                     on_returned: Callback | None = None, on_withdrawn: Callback | None = None,
                     assignees: Callable[[Any], list[int]] | None = None,
                     summaries: Callable[[list[str]], dict[str, str]] | None = None,
                     todo_lines: Callable[[Any], Any] | None = None) -> None:
    """Register a subject type. Callbacks get the ``ApprovalRequest`` and run inside the action's
    transaction (raise to refuse it); ``summary(subject_id)`` is the line shown in lists,
    ``summaries(subject_ids)`` (optional) gives the same lines for many subjects in one go, and
    ``todo_lines`` the to-do line of the approval tasks in the inbox (the request's title without it)."""
    _subjects[key] = SubjectType(key, label, summary, url, on_approved, on_rejected, on_returned,
                                 on_withdrawn, assignees, summaries, todo_lines)


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


def fire(subject_type: str, event: str, request) -> None:
    st = _subjects.get(subject_type)
    cb = getattr(st, f"on_{event}", None) if st else None
    if cb is not None:
        cb(request)
