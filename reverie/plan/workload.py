"""What one optimizer step and one epoch hold under the run's config: GPUs, strategy, accumulation, micro-batch
shape, samples per epoch (counted from the data's files when they are here)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from reverie.plan.shapes import MicroBatch
from reverie.training.global_batch import accumulation


@dataclass(frozen=True)
class Workload:
    world: int  # GPUs in all
    strategy: str  # a key of reverie.plan.memory.STRATEGIES
    precision: str
    micro: MicroBatch  # per GPU
    accumulation: int
    samples_per_epoch: int | None
    samples_source: str  # where the count came from
    epochs: int

    @property
    def samples_per_step(self) -> int:
        return self.micro.rows * self.accumulation * self.world

    @property
    def tokens_per_step(self) -> int:
        return self.micro.tokens * self.accumulation * self.world

    @property
    def steps_per_epoch(self) -> int | None:
        return None if self.samples_per_epoch is None else math.ceil(self.samples_per_epoch / self.samples_per_step)


def _devices(value) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, (list, tuple)):
        return len(value)
    return int(value) if str(value).isdigit() else 1


def strategy_name(cfg: DictConfig, world: int) -> str:
    """The memory rule of the run's Lightning strategy."""
    strategy = cfg.trainer.get("strategy")
    target = str(strategy.get("_target_", "")) if isinstance(strategy, DictConfig) else str(strategy)
    if "FSDP" in target:
        return "fsdp_shard_grad_op" if strategy.get("sharding_strategy") == "SHARD_GRAD_OP" else "fsdp_full_shard"
    if "DeepSpeed" in target:
        return f"deepspeed_zero{int(strategy.get('stage', 2))}"
    return "ddp"


def _accumulation(cfg: DictConfig, micro: int, world: int) -> int:
    callback = OmegaConf.select(cfg, "callbacks.global_batch")
    if callback is not None and callback.get("size"):
        return accumulation(int(callback.size), micro, world)
    return int(cfg.trainer.accumulate_grad_batches)


def count_samples(cfg: DictConfig) -> tuple[int | None, str]:
    """Training samples per epoch as the data module mixes them (REVERIE records expanded by the reflection policy),
    when every source file is here; else unknown, naming the first missing file."""
    for i, source in enumerate(cfg.data.get("train_sources") or []):
        path = OmegaConf.select(source, "path", throw_on_missing=False)
        if path is None or path == "???" or not Path(str(path)).is_file():
            return None, f"unknown (data.train_sources.{i}.path not here: {path}); give plan.samples_per_epoch"
    data = instantiate(cfg.data)
    data.load(instantiate(cfg.reflection))
    return len(data.train_convs), "counted from the data's files"


def workload(cfg: DictConfig) -> Workload:
    plan = cfg.plan
    world = _devices(cfg.trainer.devices) * int(cfg.trainer.num_nodes)
    rows = int(cfg.data.batch_size)
    length = int(plan.tokens_per_sample or cfg.data.max_length)
    images = round(rows * float(plan.images_per_sample))
    micro = MicroBatch(rows, length, images, round(rows * length * float(plan.supervised_fraction)))
    if plan.samples_per_epoch is not None:
        samples, source = int(plan.samples_per_epoch), "plan.samples_per_epoch"
    elif plan.count_data:
        samples, source = count_samples(cfg)
    else:
        samples, source = None, "not counted (plan.count_data=false)"
    return Workload(
        world=world,
        strategy=plan.strategy or strategy_name(cfg, world),
        precision=str(cfg.trainer.precision),
        micro=micro,
        accumulation=_accumulation(cfg, rows, world),
        samples_per_epoch=samples,
        samples_source=source,
        epochs=int(cfg.trainer.max_epochs),
    )
