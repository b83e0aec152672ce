"""Adapter to the approval engine (office/approvals, issue 3) for sign-off (签发) and leader
instruction (批办).

TODO(approvals): when ``office.approvals.service`` offers subject types with approved / rejected /
returned callbacks, register "docflow.signoff" and "docflow.instruction" here and route
``record_signoff`` / ``record_instruction`` through it. Until then the leader's decision is taken
directly by the docflow service (same permission checks), so wiring it later is one change here.
"""

from __future__ import annotations

from office.actor import Actor


def approvals_available() -> bool:
    try:
        import office.approvals.service  # noqa: F401
    except ImportError:
        return False
    return False  # TODO(approvals): True once the subject-type registry is wired below


def record_signoff(actor: Actor, doc, opinion: str) -> None:
    """Hook for the approval engine; the docflow service records the sign-off itself."""
    return None


def record_instruction(actor: Actor, receipt, text: str) -> None:
    """Hook for the approval engine; the docflow service records the 批办 step itself."""
    return None
