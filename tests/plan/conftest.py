"""Plans of composed configs (the model on the meta device; nothing read but the config files)."""

from __future__ import annotations

import pytest
from plan_compose import compose_plan

from reverie.plan.estimate import Plan, make_plan


@pytest.fixture
def plan_of():
    def make(*overrides: str) -> Plan:
        return make_plan(compose_plan("plan.count_data=false", *overrides))

    return make
