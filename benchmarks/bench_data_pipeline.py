"""Data pipeline throughput per worker at 336 px: image decode + pad/resize/normalise + tensors, one process.

Prints samples/s. Target: >= 500 samples/s per worker, decoding every image (no image cache). Also the second
epoch with the in-memory image cache (reverie.data.images: each image decoded once per process), side by side.

    python benchmarks/bench_data_pipeline.py [--samples 400]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import device_name  # noqa: E402

from reverie.data.dataset import Collator, EncodedDataset  # noqa: E402
from reverie.data.encode import SampleEncoder  # noqa: E402
from reverie.data.images import ImageCache  # noqa: E402
from reverie.data.mixture import ReverieSource, mix  # noqa: E402
from reverie.data.reflect import ReflectionPolicy  # noqa: E402
from reverie.data.templates import TEMPLATES  # noqa: E402
from reverie.data.tokenizer import train_bpe_tokenizer  # noqa: E402
from reverie.models.vision import build_transform  # noqa: E402
from reverie.world import WorldConfig, build_world, load_manifest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    world = Path(tempfile.mkdtemp()) / "world"
    build_world(world, WorldConfig(num_images=max(60, args.samples // 4), image_size=336))
    files = load_manifest(world)
    convs, _ = mix([ReverieSource(str(files["reverie.train"]), str(files["images"]))], ReflectionPolicy(), 0)
    convs = (convs * (1 + args.samples // len(convs)))[: args.samples]
    tokenizer = train_bpe_tokenizer([t.text for c in convs for t in c.turns], 512)
    samples, _ = SampleEncoder(tokenizer, TEMPLATES["vicuna_v1"], 576, 2048).encode_all(convs)
    transform = build_transform(336, (0.48, 0.46, 0.41), (0.27, 0.26, 0.28), True)
    collate = Collator(tokenizer.pad_token_id)

    def epoch(dataset: EncodedDataset) -> float:
        start = time.perf_counter()
        for i in range(0, len(samples), args.batch_size):
            collate([dataset[j] for j in range(i, min(i + args.batch_size, len(samples)))])
        return len(samples) / (time.perf_counter() - start)

    uncached = epoch(EncodedDataset(samples, ImageCache(transform, max_bytes=0)))
    cached = EncodedDataset(samples, ImageCache(transform))
    epoch(cached)  # first epoch fills the cache
    warm = epoch(cached)
    print(f"device: {device_name()}; {len(samples)} samples at 336 px, batch {args.batch_size}, one process")
    print(f"data pipeline: {uncached:.0f} samples/s per worker decoding every image (target >= 500)")
    print(f"with the image cache, a later epoch: {warm:.0f} samples/s ({warm / uncached:.1f}x)")


if __name__ == "__main__":
    main()
