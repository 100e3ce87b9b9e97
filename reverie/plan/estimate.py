"""The whole plan of a run as numbers: parameters, model states per GPU under every strategy, activations, FLOPs,
steps and wall time (`make_plan`); `reverie.plan.report` prints it."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import DictConfig, OmegaConf

from reverie.plan.activations import activation_bytes
from reverie.plan.flops import micro_batch_flops
from reverie.plan.memory import STRATEGIES, StateBytes, dtype_bytes, state_bytes
from reverie.plan.meta_model import build_meta_model
from reverie.plan.parameters import ParamCounts, param_counts
from reverie.plan.workload import Workload, workload


@dataclass
class Plan:
    counts: ParamCounts
    work: Workload
    states: dict[str, StateBytes]  # every strategy, per GPU
    activations: dict[str, int]  # per micro-batch, the run's checkpointing setting
    activations_other: dict[str, int]  # the other setting
    checkpointing: bool
    flops: dict[str, int]  # per micro-batch, per part
    gpu: str
    peak_flops: float  # per GPU, FLOP/s
    memory_bytes: int  # per GPU
    mfu: float
    max_steps: int
    notes: list[str] = field(default_factory=list)

    @property
    def flops_per_step(self) -> int:
        return sum(self.flops.values()) * self.work.accumulation * self.work.world

    @property
    def steps(self) -> int | None:
        per_epoch = self.work.steps_per_epoch
        if per_epoch is None:
            return self.max_steps if self.max_steps > 0 else None
        total = per_epoch * self.work.epochs
        return min(total, self.max_steps) if self.max_steps > 0 else total

    @property
    def seconds(self) -> float | None:
        steps = self.steps
        if steps is None:
            return None
        return steps * self.flops_per_step / (self.mfu * self.peak_flops * self.work.world)

    @property
    def peak_bytes(self) -> int:
        """The run's strategy: model states plus one micro-batch's activations, per GPU."""
        return self.states[self.work.strategy].total + sum(self.activations.values())


def _load_bytes(dtype: str | None, default: int) -> int:
    return 2 if dtype in ("bfloat16", "float16") else default


def frozen_weights(cfg: DictConfig, counts: ParamCounts) -> int:
    """Bytes of the frozen weights as each part is loaded (the LLM and an HF LLaVA folder in their `dtype`)."""
    stored = dtype_bytes(str(cfg.trainer.precision))[0]
    llm = OmegaConf.select(cfg, "model.llm.build.dtype", default=None)
    whole = OmegaConf.select(cfg, "model.dtype", default=None)
    total = 0
    for part in counts.parts:
        dtype = whole or (llm if part.part == "language_model" else None)
        total += part.frozen * _load_bytes(dtype, stored)
    return total


def make_plan(cfg: DictConfig) -> Plan:
    meta = build_meta_model(cfg)
    counts = param_counts(meta.model)
    work = workload(cfg)
    gpu = cfg.plan.gpus[cfg.plan.gpu]
    checkpointing = bool(cfg.stage.gradient_checkpointing)
    eager = OmegaConf.select(cfg, "model.llm.build.attn_implementation", default="sdpa") == "eager"
    compute = dtype_bytes(work.precision)[1]

    def acts(ckpt: bool) -> dict[str, int]:
        return activation_bytes(meta.model, work.micro, checkpointing=ckpt, compute=compute, eager=eager, mask_bytes=1)

    return Plan(
        counts=counts,
        work=work,
        states={s: state_bytes(s, counts, work.world, work.precision, frozen_weights(cfg, counts)) for s in STRATEGIES},
        activations=acts(checkpointing),
        activations_other=acts(not checkpointing),
        checkpointing=checkpointing,
        flops=micro_batch_flops(meta.model, work.micro),
        gpu=str(gpu.name),
        peak_flops=float(gpu.peak_tflops) * 1e12,
        memory_bytes=int(float(gpu.memory_gib) * 2**30),
        mfu=float(cfg.plan.mfu),
        max_steps=int(cfg.trainer.max_steps),
        notes=meta.notes,
    )
