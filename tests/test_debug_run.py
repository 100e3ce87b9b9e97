"""`+debug=fast` end to end: a whole run in seconds that saves a checkpoint `evaluate`, `export`, `generate` and
`diagnose` read; and a planted secret (an environment variable the config reads, a secret-named key given on the
command line) appears in no file a run writes, on the success and on the failure path."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SECRET_ENV = "sk-planted-env-secret-0123456789"
SECRET_LITERAL = "planted-literal-token-9876543210"
SECRETS = ["+auth.password=${oc.env:REVERIE_TEST_SECRET}", f"+hf_token={SECRET_LITERAL}"]


def run(args: list[str], cache: Path, cwd: Path, code: int = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "REVERIE_CACHE_DIR": str(cache), "REVERIE_TEST_SECRET": SECRET_ENV, "OMP_NUM_THREADS": "1"}
    env.pop("HYDRA_FULL_ERROR", None)
    proc = subprocess.run([sys.executable, "-m", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == code, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def debug_run(tmp_path_factory) -> tuple[Path, Path, float]:
    """A `+debug=fast` run with both secrets planted, in a fresh cache (world, tower and base built cold)."""
    root = tmp_path_factory.mktemp("debug")
    start = time.perf_counter()
    run(["reverie.run", "+debug=fast", f"hydra.run.dir={root / 'run'}", *SECRETS], root / "cache", root)
    return root, root / "run", time.perf_counter() - start


def files_holding(folder: Path, secrets: list[str]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {s}" for s in secrets if s.encode() in data]
    return found


def test_debug_fast_saves_a_checkpoint(debug_run):
    # Its speed (about 10 s cold on 2 idle cores) is measured, not asserted here: a busy machine takes longer.
    root, run_dir, _ = debug_run
    assert (run_dir / "checkpoints" / "last.ckpt").is_file() and (run_dir / "summary.json").is_file()


def test_export_diagnose_evaluate_generate_work_on_a_debug_run(debug_run):
    root, run_dir, _ = debug_run
    cache = root / "cache"
    out = run(["reverie.export", f"run_dir={run_dir}", f"out={root / 'hf'}"], cache, root).stdout
    assert (root / "hf" / "config.json").is_file() and out.strip().splitlines()[-1] == str(root / "hf")
    profile = run(
        ["reverie.diagnose", f"run_dir={run_dir}", "diagnose.images=4", "diagnose.max_empty_fraction=1"], cache, root
    )
    assert Path(profile.stdout.strip().splitlines()[-1]).is_file()
    metrics = run(
        ["reverie.evaluate", f"run_dir={run_dir}", "eval.max_questions=2", "eval.tasks.chair=null"], cache, root
    )
    assert Path(metrics.stdout.strip().splitlines()[-1]).is_file()
    image = next((cache / "world").glob("*/images/*.png"))
    run(["reverie.generate", f"run_dir={run_dir}", f"image={image}", "prompt=Is there a cat?"], cache, root)
    # a second export to the same folder is refused, and leaves the first one as it was
    before = (root / "hf" / "config.json").stat().st_mtime_ns
    err = run(["reverie.export", f"run_dir={run_dir}", f"out={root / 'hf'}"], cache, root, code=2).stderr
    assert err.strip().splitlines()[-1].startswith("reverie: error: out=") and "overwrite=true" in err
    assert (root / "hf" / "config.json").stat().st_mtime_ns == before


def test_a_planted_secret_is_in_no_file_of_a_run(debug_run):
    root, run_dir, _ = debug_run
    assert (run_dir / ".hydra" / "config.yaml").is_file() and list(run_dir.rglob("hparams.yaml"))
    assert "<redacted>" in (run_dir / "summary.json").read_text()
    assert files_holding(run_dir, [SECRET_ENV, SECRET_LITERAL]) == []  # also what export, diagnose, evaluate wrote
    assert files_holding(root / "cache" / "world", [SECRET_ENV, SECRET_LITERAL]) == []
    assert files_holding(root / "cache" / "tower", [SECRET_ENV, SECRET_LITERAL]) == []


def test_a_planted_secret_is_not_in_the_cached_base(debug_run):
    root, _, _ = debug_run
    assert files_holding(root / "cache" / "base", [SECRET_ENV, SECRET_LITERAL]) == []


def test_a_planted_secret_is_in_no_file_of_a_failed_run(tmp_path, debug_run):
    root, _, _ = debug_run
    failed = tmp_path / "failed"  # fails after Hydra wrote .hydra/ and the run built its parts
    err = run(
        ["reverie.run", "+debug=fast", f"hydra.run.dir={failed}", f"ckpt_path={tmp_path / 'gone.ckpt'}", *SECRETS],
        root / "cache",
        tmp_path,
        code=2,
    ).stderr
    assert "checkpoint not found" in err.strip().splitlines()[-1]
    assert (failed / ".hydra" / "overrides.yaml").is_file()  # it wrote files: they are clean
    assert files_holding(tmp_path, [SECRET_ENV, SECRET_LITERAL]) == []
