"""What can be tested of FSDP on a CPU. It cannot train here: Lightning refuses FSDPStrategy without a GPU, and
torch's FullyShardedDataParallel itself refuses a CPU-only process (both asserted, so the day either runs on a CPU
this test fails and a 2-process FSDP = 1-process test can replace it). The shipped wrapping policy is checked with
torch's own recursive wrapper on a tiny LVLM: one unit per transformer layer, the unit `reverie.plan` counts."""

from __future__ import annotations

import pytest
import torch
from hydra.utils import instantiate
from lightning.pytorch import Trainer
from plan_compose import compose_plan
from plan_tiny import tiny_lvlm
from torch import nn
from torch.distributed.fsdp.wrap import _recursive_wrap

from reverie.plan.parameters import param_counts


def fsdp_strategy():
    return instantiate(compose_plan("trainer/strategy=fsdp").trainer.strategy)


def test_lightning_refuses_fsdp_on_cpu():
    with pytest.raises(ValueError, match="requires a GPU accelerator"):
        Trainer(accelerator="cpu", devices=2, strategy=fsdp_strategy())


def test_torch_fsdp_refuses_a_cpu_only_process(tmp_path):
    from torch.distributed.fsdp import FullyShardedDataParallel

    torch.distributed.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        with pytest.raises(RuntimeError, match="FSDP needs a non-CPU accelerator device"):
            FullyShardedDataParallel(nn.Linear(4, 4))
    finally:
        torch.distributed.destroy_process_group()


class Unit(nn.Module):
    """Stands in for FSDP's wrapper: records what torch's recursive wrap would shard as one unit."""

    def __init__(self, module: nn.Module, **kwargs) -> None:
        super().__init__()
        self.module = module


def test_wrapping_policy_makes_one_unit_per_transformer_layer():
    policy = fsdp_strategy().kwargs["auto_wrap_policy"]  # what Lightning hands to FullyShardedDataParallel
    model = tiny_lvlm("lora", "sdpa")
    expected = {id(layer) for layer in model.language_model.get_base_model().model.layers}
    expected |= {id(layer) for layer in model.vision_tower.vision_model.encoder.layers}
    _recursive_wrap(model, policy, Unit, ignored_modules=set(), ignored_params=set(), only_wrap_children=True)
    units = [m.module for m in model.modules() if isinstance(m, Unit)]
    assert {id(u) for u in units} == expected and len(units) == 2 + 2  # 2 decoder layers, 2 tower layers kept (of 3)
    largest = max(sum(p.numel() for p in u.parameters()) for u in units)
    assert param_counts(model).largest_block == largest
