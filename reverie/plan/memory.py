"""Bytes per GPU of the model states (weights, gradients, AdamW states) under each strategy and precision.

Rules (N parameters, T of them trainable, F = N - T frozen, W GPUs in all):
- DDP (Lightning): every GPU holds everything. Under mixed and 32-bit precision Lightning keeps every weight in the
  dtype it was loaded in (`model.llm.build.dtype`, `model.dtype`; LoRA adapters fp32), a trained weight's gradient
  and AdamW's two moments in that dtype too (fp32: 4 + 4 + 8 bytes); `bf16-true` casts it all to bf16 (2N, 2T, 4T).
- FSDP (Lightning's FSDPStrategy, its MixedPrecision: fp32 shards, bf16 compute copies under bf16-mixed): weights,
  gradients and moments sharded over the W GPUs (4N/W, 4T/W, 8T/W). FULL_SHARD gathers one wrapping unit at a time
  (counted: two units, the one computing and the one prefetched, in the compute dtype); SHARD_GRAD_OP keeps the
  gathered compute copy of all weights from forward to backward (N in the compute dtype).
- DeepSpeed ZeRO, exactly DeepSpeed's own estimators (`estimate_zero2_model_states_mem_needs`,
  `estimate_zero3_model_states_mem_needs`, no offload; deepspeed.readthedocs.io/en/latest/memory.html): ZeRO-2 holds
  2N (16-bit weights) + 18N/W (16-bit and fp32 gradients, fp32 master weights, two fp32 moments); ZeRO-3 holds
  4 x the largest layer + 18N/W. DeepSpeed's estimators assume every parameter trains; here the 18 bytes apply to
  the T trainable ones and a frozen one costs its 16-bit copy (ZeRO-2: 2F on every GPU; ZeRO-3: 2F/W), so with
  T = N the figures are DeepSpeed's.
"""

from __future__ import annotations

from dataclasses import dataclass

from reverie.plan.parameters import ParamCounts

STRATEGIES = ("ddp", "fsdp_full_shard", "fsdp_shard_grad_op", "deepspeed_zero2", "deepspeed_zero3")


@dataclass(frozen=True)
class StateBytes:
    strategy: str
    weights: int
    gradients: int
    optimizer: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer


def dtype_bytes(precision: str) -> tuple[int, int]:
    """(bytes of a stored weight, bytes of a compute copy) for a Lightning precision string."""
    precision = str(precision)
    if precision.endswith("-true") and not precision.startswith("32"):
        return 2, 2
    if precision.endswith("-mixed"):
        return 4, 2
    return 4, 4


def state_bytes(strategy: str, counts: ParamCounts, world: int, precision: str) -> StateBytes:
    n, t, f = counts.total, counts.trainable, counts.frozen
    stored, compute = dtype_bytes(precision)
    if strategy == "ddp":
        if precision.endswith("-true") and not precision.startswith("32"):  # Lightning casts the whole model
            return StateBytes(strategy, 2 * n, 2 * t, 4 * t)
        trained = counts.trainable_bytes
        return StateBytes(strategy, trained + counts.frozen_bytes, trained, 2 * trained)
    if strategy.startswith("fsdp"):
        gathered = 2 * counts.largest_block * compute if strategy == "fsdp_full_shard" else n * compute
        return StateBytes(strategy, stored * n // world + gathered, stored * t // world, 2 * stored * t // world)
    if strategy.startswith("deepspeed"):  # gradients: 16-bit + fp32 (6 bytes); moments 8; master weights 4
        gradients, optimizer = 6 * t // world, 8 * t // world
        if strategy == "deepspeed_zero2":  # 2N + 18T/W
            total = 2 * n + 18 * t // world
        elif strategy == "deepspeed_zero3":  # 4 x the largest layer + 18T/W + 2F/W
            total = 4 * counts.largest_layer + (18 * t + 2 * f) // world
        else:
            raise ValueError(f"unknown strategy {strategy!r}; one of {STRATEGIES}")
        return StateBytes(strategy, total - gradients - optimizer, gradients, optimizer)
    raise ValueError(f"unknown strategy {strategy!r}; one of {STRATEGIES}")
