"""benchmarks/bench_gpu_step.py runs its GPU code on a tiny shape on the CPU: every case trains, and its numbers
follow from what it timed (MFU from reverie.plan's FLOP count, trees holding both branches of a record per unit)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from reverie.plan.flops import micro_batch_flops
from reverie.plan.shapes import MicroBatch

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_gpu_step.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_gpu_step", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_bench_runs_every_case_on_a_tiny_shape():
    bench = load_bench()
    results = bench.main(["--shape", "tiny", "--steps", "1", "--warmup", "0", "--peak-tflops", "2"])
    assert [(r.stage, r.trees) for r in results] == [("lora", True), ("lora", False), ("full", True), ("full", False)]
    for r in results:
        assert r.step_s > 0 and r.tokens_per_s > 0
        assert r.mfu == pytest.approx(r.model_flops_per_step / r.step_s / 2e12, rel=1e-2, abs=1e-4)
        assert r.samples_per_s == pytest.approx(r.samples_per_step / r.step_s, rel=1e-2)
    trees, separate = results[0], results[1]
    assert trees.samples_per_step > separate.samples_per_step  # the shared prefix once: more samples per row


def test_bench_runs_the_gpu_settings_bf16_and_checkpointing_on_cpu():
    args = ["--shape", "tiny", "--steps", "1", "--warmup", "0", "--dtype", "bfloat16", "--checkpointing"]
    results = load_bench().main([*args, "--trees", "on"])
    assert [r.stage for r in results] == ["lora", "full"] and all(r.tokens_per_s > 0 for r in results)


def test_bench_flops_are_the_plans_count_of_its_batch():
    import torch

    bench = load_bench()
    shape = bench.SHAPES["tiny"]
    model = bench.build(shape, "full", torch.device("cpu"), torch.float32)
    batch, samples = bench.make_rows(shape, model.num_image_tokens, True, 128, 1, torch.device("cpu"))
    images, targets = batch["pixel_values"].shape[0], int((batch["target_ids"] != -100).sum())
    assert samples == 2 * images  # two rationale samples per tree
    flops = micro_batch_flops(model, MicroBatch(1, 128, images, targets))
    expected = bench.run_case("tiny", "full", True, bench_args(), torch.device("cpu"), torch.float32)
    assert expected.model_flops_per_step == sum(flops.values())


def bench_args():
    import argparse

    return argparse.Namespace(seq=128, rows=1, steps=1, warmup=0, checkpointing=False, peak_tflops=1.0)
