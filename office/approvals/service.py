"""Approval engine (审批): the public service API other modules and the views use.

The implementation is split: ``flows`` (templates), ``resolve`` (assignees), ``engine`` (the public
actions, gathered from ``request_actions``, ``task_actions`` and ``access``; ``transitions`` is the
node state machine they share), ``deadlines``, ``signatures``, ``queries`` (lists and allowed actions), ``subjects``
(the subject registry) and ``standalone`` (请示件).
"""

from __future__ import annotations

from office.approvals.deadlines import fire_deadline, scan_deadlines
from office.approvals.engine import (
    DEFAULT_OPINION,
    acting_for,
    add_signer,
    approve,
    can_view,
    carbon_copy,
    comment,
    reject,
    resubmit,
    return_task,
    start,
    transfer,
    urge,
    withdraw,
)
from office.approvals.flows import (
    available_flows,
    export_flow,
    get_flow,
    import_flow,
    save_flow,
    validate_definition,
)
from office.approvals.queries import (
    allowed,
    copied_to_me,
    done_tasks,
    get_request,
    has_request,
    my_requests,
    subject_requests,
    subjects_with_requests,
    timeline,
    todo_count,
    todo_tasks,
    waiting_for,
)
from office.approvals.sheet import signature_png, who
from office.approvals.signatures import current_signature, save_signature
from office.approvals.subjects import get_subject, register_subject, summaries_of, summary_of
from office.approvals.todo import subject_changed

__all__ = [
    "DEFAULT_OPINION", "acting_for", "add_signer", "allowed", "approve", "available_flows", "can_view",
    "carbon_copy", "comment", "copied_to_me", "current_signature", "done_tasks", "export_flow",
    "fire_deadline", "get_flow", "get_request", "get_subject", "import_flow", "my_requests", "register_subject",
    "reject", "resubmit", "return_task", "save_flow", "save_signature", "scan_deadlines", "signature_png", "start",
    "has_request", "subject_changed", "subject_requests", "subjects_with_requests", "summaries_of", "summary_of", "timeline", "todo_count",
    "todo_tasks", "transfer", "urge", "validate_definition", "waiting_for", "who", "withdraw",
]
