"""Plans of composed configs (the model on the meta device; nothing read but the config files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from reverie.plan.estimate import Plan, make_plan
from reverie.resolvers import register

CONF = Path(__file__).resolve().parents[2] / "reverie" / "conf"
register()


def compose_plan(*overrides: str):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("plan", overrides=list(overrides))


@pytest.fixture
def plan_of():
    def make(*overrides: str) -> Plan:
        return make_plan(compose_plan("plan.count_data=false", *overrides))

    return make
