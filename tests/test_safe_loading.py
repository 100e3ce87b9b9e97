"""Safe loading at every load site: a checkpoint carrying a pickle payload (an object whose `__reduce__` writes a
marker file when unpickled) is refused with one line `reverie: error: ...` and exit status 2, and the payload never
runs (no marker file), whatever torch's default is.

torch's default is turned off here (`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`: a `torch.load` that does not pass
`weights_only=True` itself unpickles anything), so a load site that relies on the default fails these tests. The
sites: `evaluate`, `export`, `generate` and `diagnose` (`ckpt=`), `init_from`, resume (`ckpt_path=`), and the tower
and base caches. Each runs through the entry point's real `main`: the run-folder entry points on a folder holding
just a config and the checkpoint (they read the checkpoint before building the model), training and the caches on a
`+debug=fast` run made once for the module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from sample_files import write_images
from test_bad_inputs import call

MARKER = "payload-ran.txt"


class Payload:
    """Unpickling this creates `path` (the stand-in for arbitrary code)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def write_payload(target: Path, marker: Path, like: Path | None = None) -> Path:
    """A file at `target` that looks like a checkpoint (the real one's tensors, when `like` is given) and carries the
    payload."""
    checkpoint = torch.load(like, map_location="cpu", weights_only=True) if like else {"state_dict": {}}
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:  # a bare state dict (the tower cache)
        checkpoint = dict(checkpoint)
    checkpoint["payload"] = Payload(marker)
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, target)
    return target


@pytest.fixture(scope="module")
def debug_run(tmp_path_factory) -> tuple[Path, Path]:
    """(cache, run folder) of one `+debug=fast` run: world, tower and base cached, a checkpoint saved."""
    root = tmp_path_factory.mktemp("safe")
    env = {"REVERIE_CACHE_DIR": str(root / "cache"), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "reverie.run", "+debug=fast", f"hydra.run.dir={root / 'run'}"]
    proc = subprocess.run(cmd, env={**_environ(), **env}, cwd=root, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root / "cache", root / "run"


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("HYDRA_FULL_ERROR", "TORCH_FORCE_WEIGHTS_ONLY_LOAD")}


@pytest.fixture
def unsafe_default(monkeypatch, tmp_path) -> Path:
    """torch's default turned to `weights_only=False`; returns the marker path (not there yet)."""
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.delenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", raising=False)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / MARKER
    assert not marker.exists()
    return marker


def assert_refused(code: int, err: str, path: Path, marker: Path) -> None:
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("INFO: ")]
    assert not marker.exists(), f"the payload ran: {err[-2000:]}"
    assert code == 2, err[-3000:]
    assert len(lines) == 1 and lines[0].startswith("reverie: error: "), err[-3000:]
    assert f"{path}: refused to load: it holds pickled code" in lines[0], lines[0]


@pytest.mark.filterwarnings("ignore:Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
def test_the_payload_is_live_under_the_unsafe_default(unsafe_default, tmp_path):
    # The control: with torch's default off, a load that does not ask for weights_only runs the payload.
    path = write_payload(tmp_path / "p.ckpt", unsafe_default)
    torch.load(path, map_location="cpu")
    assert unsafe_default.exists()


@pytest.fixture
def fake_run(tmp_path) -> Path:
    """A run folder as far as the entry points look before loading (its config, a last.ckpt)."""
    (tmp_path / "run" / ".hydra").mkdir(parents=True)
    (tmp_path / "run" / ".hydra" / "config.yaml").write_text("{}\n")
    write_images(tmp_path / "images", 1)
    return tmp_path / "run"


@pytest.mark.parametrize(
    ("entry", "ckpt"),
    [("evaluate", "last"), ("evaluate", "file"), ("export", "file"), ("generate", "file"), ("diagnose", "last")],
)
def test_run_dir_entry_points_refuse_a_payload_checkpoint(fake_run, unsafe_default, tmp_path, entry, ckpt):
    path = fake_run / "checkpoints" / "last.ckpt" if ckpt == "last" else tmp_path / "evil.ckpt"
    write_payload(path, unsafe_default)
    extra = {
        "evaluate": [],
        "export": [f"out={tmp_path / 'hf'}"],
        "generate": [f"image={tmp_path / 'images' / '000.png'}", "prompt=What is in the image?"],
        "diagnose": [f"diagnose.out={tmp_path / 'diag'}"],
    }[entry]
    code, err = call(entry, [f"run_dir={fake_run}", f"ckpt={'last' if ckpt == 'last' else path}", *extra], tmp_path)
    assert_refused(code, err, path, unsafe_default)


@pytest.mark.parametrize("site", ["init_from", "resume"])
def test_training_refuses_a_payload_checkpoint(debug_run, unsafe_default, tmp_path, monkeypatch, site):
    cache, run_dir = debug_run
    monkeypatch.setenv("REVERIE_CACHE_DIR", str(cache))
    ckpt = write_payload(tmp_path / "evil.ckpt", unsafe_default, like=run_dir / "checkpoints" / "last.ckpt")
    option = ["base=none", f"init_from={ckpt}"] if site == "init_from" else [f"ckpt_path={ckpt}"]
    code, err = run_training(["+debug=fast", f"hydra.run.dir={tmp_path / 'new'}", *option], tmp_path)
    assert_refused(code, err, ckpt, unsafe_default)


@pytest.mark.parametrize("cache_part", ["tower", "base"])
def test_a_poisoned_cache_is_refused(debug_run, unsafe_default, tmp_path, monkeypatch, cache_part):
    cache, _ = debug_run
    own = tmp_path / "cache"
    shutil.copytree(cache, own)
    monkeypatch.setenv("REVERIE_CACHE_DIR", str(own))
    pattern = "tower/*.pt" if cache_part == "tower" else "base/*/weights.ckpt"
    (target,) = own.glob(pattern)
    write_payload(target, unsafe_default, like=target)
    code, err = run_training(["+debug=fast", f"hydra.run.dir={tmp_path / 'new'}"], tmp_path)
    assert_refused(code, err, target, unsafe_default)


def run_training(args: list[str], cwd: Path) -> tuple[int, str]:
    """`reverie.run` in a fresh interpreter (exit status, stderr): training may reach torch's OpenMP pool, which a
    forked copy of this process (`call`) can deadlock on when the parent has used it."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "reverie.run", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    # Lightning's own progress lines (seeding, devices, tips) stay out; error lines and tracebacks stay in
    keep = ("reverie:", "Traceback", "Error", "Exception")
    return proc.returncode, "\n".join(line for line in proc.stderr.splitlines() if line.startswith(keep))


def test_a_file_that_is_not_a_checkpoint_is_one_line(fake_run, tmp_path, monkeypatch):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    junk = tmp_path / "junk.ckpt"
    junk.write_text("not a checkpoint\n")
    code, err = call("evaluate", [f"run_dir={fake_run}", f"ckpt={junk}"], tmp_path)
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("INFO: ")]
    assert code == 2 and len(lines) == 1, err[-3000:]
    assert lines[0].startswith(f"reverie: error: {junk}: "), lines[0]
