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
