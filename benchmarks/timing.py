"""Shared by the benchmarks: median wall time of repeated calls after warm-up, the device's name, and the model
sizes that the packing and DPO benchmarks both time (a 2-layer Llama of width 256 behind a small ViT at 14 px patches)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

BENCH_LLM = {
    "model_type": "llama",
    "hidden_size": 256,
    "intermediate_size": 1024,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 4096,
}
BENCH_VIT = {"patch_size": 14, "embed_dim": 64, "depth": 2, "num_heads": 2}


def median_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def device_name() -> str:
    import platform

    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def report_tree_vs_separate(results: dict, model, count: str, agreement: str) -> None:
    """The closing lines of the tree benchmarks: device, speed-up and token ratio of trees over separate sequences,
    and the largest relative difference of what both computed (`results[name] = (seconds, tokens, values)`)."""
    (t_sep, tok_sep, v_sep), (t_tree, tok_tree, v_tree) = results["separate"], results["tree"]
    rel = float(((v_tree - v_sep).abs() / v_sep.abs().clamp_min(1e-12)).max())
    print(f"device: {device_name()}; image tokens per image: {model.num_image_tokens}; {count}")
    print(f"speed-up tree/separate: {t_sep / t_tree:.2f}x (target >= 1.8x); tokens computed: {tok_tree / tok_sep:.2f}x")
    print(f"{agreement} max relative difference: {rel:.2e} (target < 1e-4)")
