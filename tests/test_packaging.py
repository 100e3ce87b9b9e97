"""A wheel carries the Hydra configs: installed from it (not from this checkout), `python -m reverie.run` composes
its default job from any folder."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_every_config_and_runs_from_another_folder(tmp_path):
    source = tmp_path / "src"  # a copy: building writes build/ and *.egg-info next to the sources
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "outputs", "cache", "build", "*.egg-info"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            "-q",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("reverie-*.whl")
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("reverie/conf/")}
    expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / "reverie" / "conf").rglob("*.yaml")}
    assert expected and expected <= shipped
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # what `pip install` puts in site-packages
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONSAFEPATH": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", "import reverie, sys; print(reverie.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip().startswith(str(site))  # the wheel's copy, not this checkout's
    proc = subprocess.run(
        [sys.executable, "-m", "reverie.run", "--cfg", "job", "trainer.max_steps=1"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "model_type: llama" in proc.stdout and "max_steps: 1" in proc.stdout
