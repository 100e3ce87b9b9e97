"""lmms-eval's `llava_hf` model and unchanged POPE functions, run on an export of a trained run, give reverie's own
answers probe by probe, with and without LLaVA's short-answer suffix (benchmarks/lmms_eval_world_pope.py).

Runs only where an lmms-eval Python is at hand: lmms_eval importable here, or ``REVERIE_LMMS_EVAL_PYTHON`` naming a
Python that has it. lmms-eval stays out of reverie's install (0.7.3 would downgrade protobuf, python-dateutil and
wandb and add about 50 packages), so CI skips this test; README's harness section says how to run it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "lmms_eval_world_pope.py"
SHORT_ANSWER = "\nAnswer the question using a single word or phrase."
PROBES = 8  # per POPE split


def _lmms_python() -> str | None:
    named = os.environ.get("REVERIE_LMMS_EVAL_PYTHON")
    if named:
        return named
    return sys.executable if importlib.util.find_spec("lmms_eval") else None


LMMS_PYTHON = _lmms_python()
pytestmark = pytest.mark.skipif(LMMS_PYTHON is None, reason="no lmms-eval: set REVERIE_LMMS_EVAL_PYTHON")


def _run(args: list[str], cache: Path, python: str = sys.executable) -> str:
    env = {**os.environ, "REVERIE_CACHE_DIR": str(cache), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([python, *args], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, world_cache) -> Path:
    out = tmp_path_factory.mktemp("lmms") / "run"
    eval_args = [f"eval.max_questions={PROBES}", "eval.tasks.chair=null"]
    _run(["-m", "reverie.run", f"hydra.run.dir={out}", "world.num_images=60", "trainer.max_steps=200", *eval_args],
         world_cache)  # fmt: skip
    _run(["-m", "reverie.export", f"run_dir={out}", f"out={out.parent / 'hf'}"], world_cache)
    return out


@pytest.mark.parametrize("suffix", ["none", "llava"])
def test_lmms_eval_answers_like_reverie_probe_by_probe(run_dir: Path, world_cache, suffix: str) -> None:
    reverie_eval = run_dir / "eval"
    if suffix == "llava":
        args = [f"run_dir={run_dir}", f"eval.short_answer_suffix='{SHORT_ANSWER}'", f"eval.max_questions={PROBES}"]
        out = _run(["-m", "reverie.evaluate", *args, "eval.tasks.chair=null"], world_cache)
        reverie_eval = Path(out.strip().splitlines()[-1]).parent
    first = json.loads((reverie_eval / "pope_random.samples.jsonl").read_text().splitlines()[0])
    world = Path(first["image"]).parents[1]
    out = run_dir.parent / f"lmms_{suffix}"
    args = [str(SCRIPT), "--world", str(world), "--export", str(run_dir.parent / "hf"), "--reverie", str(reverie_eval)]
    _run([*args, "--out", str(out), "--suffix", suffix, "--limit", str(PROBES), "--max-new-tokens", "12"],
         world_cache, python=LMMS_PYTHON)  # fmt: skip
    report = json.loads((out / "comparison.json").read_text())
    assert set(report) == {"random", "popular", "adversarial"}
    for split in report.values():
        assert split["probes"] == PROBES and split["identical_answers"] == PROBES, split["differ_examples"]
        assert split["answers_at_token_limit"] == 0  # stopped on the end of text, as reverie's did
        assert split["reverie_prompt_suffix"] == (SHORT_ANSWER if suffix == "llava" else "")
