"""A checkpoint in the layout Lightning's FSDPStrategy writes with `state_dict_type: sharded` (a folder of
torch.distributed.checkpoint shards + meta.pt), written by that strategy's own `save_checkpoint` from a trained tiny
run (in one process: FSDP cannot run on a CPU), consolidated with Lightning's tool, exports with `reverie.export`
holding the run's weights."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from plan_compose import CONF, compose_plan
from safetensors.torch import load_file


def run(args: list[str], world_cache) -> None:
    env = {**os.environ, "REVERIE_CACHE_DIR": str(world_cache), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", *args], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


@pytest.mark.slow
def test_sharded_fsdp_checkpoint_consolidates_and_exports(tmp_path, world_cache):
    from hydra import compose, initialize_config_dir

    from reverie.run import train

    run_dir = tmp_path / "run"
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=["+debug=fast", "eval=none", "~logger", f"paths.output_dir={run_dir}"])
    train(cfg)
    (run_dir / ".hydra").mkdir()  # what Hydra writes beside a run: reverie.export rebuilds the model from it
    (run_dir / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    strategy = instantiate(compose_plan("trainer/strategy=fsdp").trainer.strategy)
    sharded = tmp_path / "sharded.ckpt"
    strategy.save_checkpoint(checkpoint, sharded)
    assert sharded.is_dir() and (sharded / "meta.pt").is_file()
    run(["lightning.pytorch.utilities.consolidate_checkpoint", str(sharded)], world_cache)
    consolidated = torch.load(tmp_path / "sharded.ckpt.consolidated", map_location="cpu", weights_only=True)
    weights, reference = consolidated["state_dict"], torch.load(run_dir / "checkpoints" / "last.ckpt")["state_dict"]
    assert weights.keys() == reference.keys() and all(torch.equal(weights[k], reference[k]) for k in weights)
    out = tmp_path / "hf"
    run(
        ["reverie.export", f"run_dir={run_dir}", f"ckpt={tmp_path / 'sharded.ckpt.consolidated'}", f"out={out}"],
        world_cache,
    )
    exported = load_file(out / "model.safetensors")
    projector = exported["multi_modal_projector.linear_1.weight"]
    assert torch.equal(projector, reference["model.multi_modal_projector.linear_1.weight"])
