"""The inbox and the modules agree: after any sequence of actions by the people of the test
organisation (documents drafted, reviewed, signed off, numbered, sealed, distributed, signed for,
handled, urged, recalled; approvals approved, rejected, returned, transferred, signed alongside,
withdrawn, resubmitted, urged, delegated, overdue; reports issued, filled, submitted, reviewed,
returned), the live inbox is what a rebuild from the modules' records gives, and each person's
to-do list is as long as its count. Runs in both database passes (SQLite, then PostgreSQL)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.inbox.world import World, assert_inbox_agrees, assert_lists_agree, reset_records, setup_office

EXAMPLES = int(os.environ.get("OFFICE_INBOX_EXAMPLES", "8"))


def test_live_inbox_agrees_with_a_rebuild_after_random_actions(org):
    flows = setup_office(org)

    class Office(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            reset_records()
            self.data = None
            self.world = World(org, flows, self._choose)

        def _choose(self, options, label):
            return self.data.draw(st.sampled_from(options), label=label)

        @rule(data=st.data(), step=st.sampled_from(World.STEPS))
        def act(self, data, step):
            self.data = data
            self.world.step(step)

        @invariant()
        def agrees(self):
            assert_inbox_agrees(self.world)

        def teardown(self):
            assert_lists_agree(self.world)
            reset_records()

    run_state_machine_as_test(Office, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=40, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]))
