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
    reference_bytes: int = 0  # DPO with a live reference: its frozen copy of the trained parts, per GPU
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
        return self.states[self.work.strategy].total + self.reference_bytes + sum(self.activations.values())


def live_reference_bytes(cfg: DictConfig, model) -> int:
    """DPO (`objective=dpo`, `reflective_dpo`) with `objective.reference=live` holds a frozen copy of the trained
    parts beside the policy (`reverie.training.reference`); `precomputed` holds none."""
    if not str(cfg.objective.get("_target_", "")).endswith("PreferenceObjective"):
        return 0
    if cfg.objective.get("reference", "live") != "live":
        return 0
    from reverie.training.reference import reference_copy_bytes

    return reference_copy_bytes(model)


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
        states={s: state_bytes(s, counts, work.world, work.precision) for s in STRATEGIES},
        activations=acts(checkpointing),
        activations_other=acts(not checkpointing),
        checkpointing=checkpointing,
        flops=micro_batch_flops(meta.model, work.micro),
        gpu=str(gpu.name),
        peak_flops=float(gpu.peak_tflops) * 1e12,
        memory_bytes=int(float(gpu.memory_gib) * 2**30),
        mfu=float(cfg.plan.mfu),
        max_steps=int(cfg.trainer.max_steps),
        reference_bytes=live_reference_bytes(cfg, meta.model),
        notes=meta.notes,
    )
