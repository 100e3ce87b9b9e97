"""Annotation throughput against a local OpenAI-compatible server that answers after a fixed latency: requests/s at
several concurrencies (the bound a real server's latency leaves), and the time of a rerun answered from the cache.

Uses the tests' stub server (tests/annotate/stub_server.py) on 127.0.0.1; nothing leaves the machine.

    python benchmarks/bench_annotate.py [--images 20] [--latency-ms 50] [--concurrency 1 4 16]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "annotate"))
from scripted import good, make_images  # noqa: E402
from stub_server import Stub, image_index  # noqa: E402

from reverie.annotate.backends.openai_chat import OpenAIChat  # noqa: E402
from reverie.annotate.job import run_job  # noqa: E402
from reverie.annotate.pipeline import PipelineSettings  # noqa: E402
from reverie.annotate.prompts import Prompts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    with tempfile.TemporaryDirectory() as tmp:
        images = make_images(Path(tmp) / "images", [f"img{i}.png" for i in range(args.images)])
        stub = Stub(
            None, image_index(images), lambda step, image, prompt, attempt: ("slow", latency, good(step, image, prompt))
        )
        print(
            f"{args.images} images, {args.images * 10} requests, server latency {args.latency_ms:.0f} ms, {os.cpu_count()} CPUs"
        )
        try:
            for concurrency in args.concurrency:
                out = Path(tmp) / f"out{concurrency}"
                backend = OpenAIChat("stub", base_url=stub.url, api_key_env=None, concurrency=concurrency)
                start = time.perf_counter()
                summary = run_job(images, out, backend, Prompts.default(), PipelineSettings(), progress=False)
                wall = time.perf_counter() - start
                sent = summary["requests"]["sent"]
                bound = concurrency / latency
                print(f"concurrency {concurrency:>3}: {sent} requests in {wall:.2f} s = {sent / wall:.1f} req/s "
                      f"(latency bound {bound:.0f} req/s)")  # fmt: skip
                backend = OpenAIChat("stub", base_url=stub.url, api_key_env=None, concurrency=concurrency)
                start = time.perf_counter()
                again = run_job(images, out, backend, Prompts.default(), PipelineSettings(), progress=False)
                print(
                    f"               rerun from cache: {again['requests']['sent']} sent, {time.perf_counter() - start:.2f} s"
                )
        finally:
            stub.close()


if __name__ == "__main__":
    main()
