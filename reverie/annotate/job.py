"""One annotation job on disk: list the images, run the pipeline with the cache in ``out``, write every step's rows,
the failures, reverie.json and summary.json (atomically, so a killed job leaves whole files or none)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reverie.annotate.backends.base import Backend
from reverie.annotate.cache import Cache
from reverie.annotate.images import list_images
from reverie.annotate.pipeline import PipelineSettings, annotate
from reverie.annotate.prompts import Prompts
from reverie.annotate.runner import Runner
from reverie.annotate.stats import Stats
from reverie.errors import InputError
from reverie.redact import redact
from reverie.world.exports.io import write_json, write_json_list, write_jsonl

STEPS = ("qa", "rationales", "filter")  # each step's rows: <step>.jsonl
OWN_FILES = frozenset({*(f"{s}.jsonl" for s in STEPS), "failures.jsonl", "reverie.json", "summary.json", "cache.jsonl"})


def run_job(
    images: str | Path,
    out: str | Path,
    backend: Backend,
    prompts: Prompts,
    settings: PipelineSettings,
    limit: int | None = None,
    progress: bool = True,
    secrets: Iterable[str] = (),
) -> dict[str, Any]:
    """Annotate the images of ``images`` (folder or list file) into ``out``; returns the summary (written with
    secret-named settings and any of ``secrets`` redacted, e.g. a key sent in ``extra_body``)."""
    root, refs = list_images(images)
    if limit is not None:
        refs = refs[:limit]
    stems: dict[str, str] = {}
    for ref in refs:
        if ref.stem in stems:
            raise InputError(f"images {stems[ref.stem]!r} and {ref.name!r} would get the same record ids; rename one")
        stems[ref.stem] = ref.name
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    stats = Stats()
    cache = Cache(out / "cache.jsonl")
    runner = Runner(backend, stats, cache, settings.max_attempts, settings.retry_failed, progress)
    try:
        result = annotate(
            refs,
            backend,
            prompts,
            settings,
            runner,
            lambda name, rows: _atomic(write_jsonl, out / f"{name}.jsonl", rows),
        )
    finally:
        cache.close()
        backend.close()
    _atomic(write_jsonl, out / "failures.jsonl", result.failures)
    _atomic(write_json_list, out / "reverie.json", result.records)
    lost = sum(1 for r in result.filter if (r["reason"] or "").startswith("failed:"))
    summary = {
        "images": len(refs),
        "image_root": str(root),
        "annotator": {"qa": backend.model_for("qa"), "judge": backend.model_for("judge"), **backend.settings},
        "pairs": {"generated": len(result.qa), "kept": len(result.records), "lost_to_failures": lost},
        **stats.summary(),
        "cache": {"entries": len(cache.entries), "torn_lines": cache.torn_lines},
        "reverie_json": str((out / "reverie.json").resolve()),
        "seconds": round(time.perf_counter() - start, 2),
    }
    summary = redact(summary, secrets={s for s in secrets if s})
    _atomic(write_json, out / "summary.json", summary)
    return summary


def _atomic(writer, path: Path, data: Iterable[Any] | Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    writer(tmp, data)
    os.replace(tmp, path)


def describe(summary: dict[str, Any]) -> str:
    """A few lines for the console."""
    r = summary["requests"]
    tokens = summary["tokens"]
    lines = [
        f"annotated {summary['images']} images with {summary['annotator']['qa']}: "
        f"{summary['pairs']['kept']} of {summary['pairs']['generated']} QA pairs kept",
        f"  requests  sent {r['sent']}, from cache {sum(r['cached'].values())}, "
        f"retries {r['retries']['transport']} transport + {r['retries']['malformed']} malformed, "
        f"failures {json.dumps(r['failures'])}",
        f"  tokens    {'in ' + str(tokens['in']) + ', out ' + str(tokens['out']) if tokens else 'not reported'}",
        f"  drops     {json.dumps(summary['drops'])} (short QA replies: {summary['short_replies']}, "
        f"pairs lost to failures: {summary['pairs']['lost_to_failures']})",
        f"  time      {summary['seconds']} s",
    ]
    return "\n".join(lines)
