"""The approval engine (审批引擎): the public actions on requests and tasks, gathered from
``request_actions`` (submit, resubmit, withdraw, urge, comment, copy), ``task_actions`` (approve,
reject, return, transfer, add signer) and ``access`` (who may see and act); ``transitions`` holds
the node state machine they share."""

from __future__ import annotations

from office.approvals.access import acting_for, can_view, is_participant
from office.approvals.request_actions import carbon_copy, comment, resubmit, start, urge, withdraw
from office.approvals.task_actions import ADD_MODES, add_signer, approve, reject, return_task, transfer
from office.approvals.transitions import DEFAULT_OPINION, SYSTEM, lock_request, request_url

__all__ = [
    "ADD_MODES", "DEFAULT_OPINION", "SYSTEM", "acting_for", "add_signer", "approve", "can_view", "carbon_copy",
    "comment", "is_participant", "lock_request", "reject", "request_url", "resubmit", "return_task", "start",
    "transfer", "urge", "withdraw",
]
