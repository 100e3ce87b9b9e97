"""`python -m reverie.plan [+experiment=NAME] [overrides] [plan.gpu=a100_40g plan.mfu=0.4]`: the run's plan.

Takes the same config and overrides as `reverie.run` and prints, without loading a weight or a data file's images:
parameters per part (trainable / frozen under the stage), model states per GPU under every strategy, activations per
micro-batch with and without gradient checkpointing, tokens and FLOPs per optimizer step, steps per epoch and the
wall time at the MFU you give.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from reverie.cli import user_errors
from reverie.plan.estimate import make_plan
from reverie.plan.report import as_json, as_text
from reverie.resolvers import register

register()


@hydra.main(version_base="1.3", config_path="../conf", config_name="plan")
@user_errors
def main(cfg: DictConfig) -> None:
    plan = make_plan(cfg)
    print(as_json(plan) if cfg.plan.format == "json" else as_text(plan))


if __name__ == "__main__":
    main()
