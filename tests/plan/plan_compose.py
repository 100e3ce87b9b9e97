"""Compose `reverie/conf/plan.yaml` with overrides, as `python -m reverie.plan` does."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir

from reverie.resolvers import register

CONF = Path(__file__).resolve().parents[2] / "reverie" / "conf"
register()


def compose_plan(*overrides: str):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("plan", overrides=list(overrides))
