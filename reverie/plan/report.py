"""The plan as text (what `python -m reverie.plan` prints) or as one JSON object (`plan.format=json`)."""

from __future__ import annotations

import json
from dataclasses import asdict

from reverie.plan.estimate import Plan

GIB = 2**30


def gib(n: float) -> str:
    return f"{n / GIB:,.2f}"


def hours(seconds: float | None) -> str:
    return "unknown (samples per epoch unknown)" if seconds is None else f"{seconds / 3600:,.1f} h"


def as_text(plan: Plan) -> str:
    w, m = plan.work, plan.work.micro
    lines = [f"reverie plan: {w.world} GPU(s) ({plan.gpu}), strategy {w.strategy}, precision {w.precision}"]
    lines += [f"  config: {note}" for note in plan.notes]
    lines.append(f"parameters{'trainable':>30}{'frozen':>16}{'total':>16}")
    for p in plan.counts.parts:
        lines.append(f"  {p.part:<24}{p.trainable:>14,}{p.frozen:>16,}{p.total:>16,}")
    c = plan.counts
    lines.append(f"  {'all':<24}{c.trainable:>14,}{c.frozen:>16,}{c.total:>16,}")
    lines.append(f"model states per GPU (GiB; {plan.gpu} holds {gib(plan.memory_bytes)})")
    lines.append(f"  {'strategy':<22}{'weights':>10}{'gradients':>11}{'optimizer':>11}{'total':>10}")
    for name, s in plan.states.items():
        mark = " <- the run" if name == w.strategy else ""
        row = f"{gib(s.weights):>10}{gib(s.gradients):>11}{gib(s.optimizer):>11}{gib(s.total):>10}"
        lines.append(f"  {name:<22}{row}{mark}")
    on, off = (
        (plan.activations, plan.activations_other) if plan.checkpointing else (plan.activations_other, plan.activations)
    )
    lines.append(
        f"activations per micro-batch ({m.rows} rows x {m.length} tokens, {m.images} images, {m.targets} targets): "
        f"{gib(sum(off.values()))} GiB without gradient checkpointing, {gib(sum(on.values()))} GiB with "
        f"(the run: {'on' if plan.checkpointing else 'off'})"
    )
    if plan.reference_bytes:
        lines.append(
            f"DPO live reference: a frozen copy of the trained parts, {gib(plan.reference_bytes)} GiB per GPU "
            f"(objective.reference=precomputed holds none)"
        )
    fits = "fits" if plan.peak_bytes <= plan.memory_bytes else "DOES NOT FIT"
    lines.append(
        f"the run per GPU: states + activations{' + reference' if plan.reference_bytes else ''} = {gib(plan.peak_bytes)} GiB of {gib(plan.memory_bytes)}: {fits}"
    )
    lines.append(
        f"per optimizer step: {w.samples_per_step:,} samples = {m.rows} rows x {w.accumulation} accumulation x "
        f"{w.world} GPUs; {w.tokens_per_step:,} tokens; {plan.flops_per_step:.3e} model FLOPs "
        f"(per micro-batch: {', '.join(f'{k} {v:.2e}' for k, v in plan.flops.items())})"
    )
    per_epoch = "unknown" if w.steps_per_epoch is None else f"{w.steps_per_epoch:,}"
    samples = "unknown" if w.samples_per_epoch is None else f"{w.samples_per_epoch:,}"
    lines.append(f"per epoch: {samples} samples ({w.samples_source}) -> {per_epoch} steps; epochs {w.epochs}")
    lines.append(
        f"wall time at MFU {plan.mfu:.2f} on {w.world} x {plan.gpu} ({plan.peak_flops / 1e12:,.0f} TFLOP/s each): "
        f"{hours(plan.seconds)} for {plan.steps if plan.steps is not None else 'unknown'} steps"
    )
    return "\n".join(lines)


def as_json(plan: Plan) -> str:
    out = asdict(plan)
    out.update(
        flops_per_step=plan.flops_per_step,
        steps=plan.steps,
        seconds=plan.seconds,
        peak_bytes=plan.peak_bytes,
        steps_per_epoch=plan.work.steps_per_epoch,
        tokens_per_step=plan.work.tokens_per_step,
        samples_per_step=plan.work.samples_per_step,
        parameters={"trainable": plan.counts.trainable, "frozen": plan.counts.frozen, "total": plan.counts.total},
    )
    return json.dumps(out, indent=2)
