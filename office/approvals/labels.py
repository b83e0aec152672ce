"""The words of the approval pages: node types, assignee kinds, request and task states, and the
kinds of action in a request's timeline (translated when shown)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

NODE_TYPES = [("single", _l("Single approver")), ("all", _l("All must approve (countersign)")),
              ("any", _l("Any one decides")), ("sequential", _l("One after another")),
              ("cc", _l("Copy only"))]
ASSIGNEE_KINDS = [("user", _l("Named people")),
                  ("role", _l("Role in the requester's unit")),
                  ("leader_up", _l("Leader of the government N levels up")),
                  ("leader_up_to", _l("Leaders level by level up to (province/city/county)")),
                  ("unit_leaders", _l("Leaders of the units named")),
                  ("gov_leader", _l("Leader of the requester's government")),
                  ("subject", _l("Named by the item (the reviewing level of a report)"))]
STATE_LABELS = {"running": _l("In progress"), "approved": _l("Approved"), "rejected": _l("Rejected"),
                "returned": _l("Returned"), "withdrawn": _l("Withdrawn"), "open": _l("Waiting"),
                "pending": _l("Not yet"), "transferred": _l("Transferred"), "cancelled": _l("Cancelled"),
                "auto_passed": _l("Auto-passed")}
ACTION_LABELS = {"submit": _l("Submitted"), "resubmit": _l("Resubmitted"), "approve": _l("Approved"),
                 "reject": _l("Rejected"), "return": _l("Returned"), "transfer": _l("Transferred"),
                 "add_signer": _l("Added a signer"), "withdraw": _l("Withdrawn"), "urge": _l("Urged"),
                 "comment": _l("Comment"), "cc": _l("Copied"), "auto_pass": _l("Auto-passed"),
                 "skip": _l("Step skipped (condition)"), "empty": _l("Nobody for the step"),
                 "node_done": _l("Step completed"), "finish": _l("Flow finished"), "escalate": _l("Escalated"),
                 "deadline": _l("Deadline reached"), "timeout_approve": _l("Approved after the deadline"),
                 "passed_over": _l("Passed over (separated duties)")}
DECISION_FLASH = {"approve": _l("Approved."), "reject": _l("Rejected."), "return": _l("Returned.")}
